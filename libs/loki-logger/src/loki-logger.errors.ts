/**
 * Invalid `LokiLoggerModule` (or `LokiTransport`) options. Lists every problem at once, each naming
 * the option and giving a valid example, so a bad config is fixed in one round. Never carries a
 * credential's value.
 */
export class LokiLoggerConfigError extends Error {
  override readonly name = 'LokiLoggerConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid LokiLoggerModule options:\n${problems.map((p) => ` - ${p}`).join('\n')}`);
  }
}
