/** One secret that could not be loaded at boot. Names and places only, never a value. */
export interface SecretLoadProblem {
  readonly name: string;
  /** `missing` (required and found nowhere) or `invalid` (found but unusable). */
  readonly kind: 'missing' | 'invalid';
  /** What is wrong, for `invalid`. */
  readonly reason?: string;
  /** Every place that was consulted, in order (file paths, env var names). */
  readonly lookedAt: readonly string[];
}

/**
 * Thrown at boot with EVERY missing or invalid secret at once, so one deploy attempt shows the whole
 * list instead of one failure per restart.
 */
export class SecretsLoadError extends Error {
  override readonly name = 'SecretsLoadError';

  constructor(readonly problems: readonly SecretLoadProblem[]) {
    super(SecretsLoadError.format(problems));
  }

  private static format(problems: readonly SecretLoadProblem[]): string {
    const lines = problems.map((problem) => {
      const what = problem.kind === 'missing' ? 'required but not found' : `invalid: ${problem.reason}`;
      const looked = problem.lookedAt.length > 0 ? `; looked at: ${problem.lookedAt.join(', ')}` : '';
      return `  - "${problem.name}": ${what}${looked}`;
    });
    const count = problems.length === 1 ? '1 secret' : `${problems.length} secrets`;
    return `${count} could not be loaded:\n${lines.join('\n')}`;
  }
}
