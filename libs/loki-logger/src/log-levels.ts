/** The log levels, most severe first: the one list every part of the lib derives from. */
export const LOKI_LOG_LEVEL_NAMES = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'] as const;

/** A log level (Nest's `log` is written as `info`). */
export type LokiLogLevel = (typeof LOKI_LOG_LEVEL_NAMES)[number];

/** winston levels: each level's severity, 0 the most severe. */
export const LOKI_LOG_LEVELS: Readonly<Record<LokiLogLevel, number>> = Object.freeze(
  Object.fromEntries(LOKI_LOG_LEVEL_NAMES.map((level, i) => [level, i])) as Record<LokiLogLevel, number>,
);

/** Whether `value` names a level. */
export function isLokiLogLevel(value: unknown): value is LokiLogLevel {
  return typeof value === 'string' && Object.hasOwn(LOKI_LOG_LEVELS, value);
}
