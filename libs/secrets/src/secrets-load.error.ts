/** One secret that could not be loaded. Names and places only, never a value. */
export interface SecretLoadProblem {
  readonly name: string;
  /** `missing` (found nowhere) or `invalid` (found but unusable). */
  readonly kind: 'missing' | 'invalid';
  /** What is wrong, for `invalid`. */
  readonly reason?: string;
  /** Every place that was consulted, in order (file paths, env var names). */
  readonly lookedAt: readonly string[];
  /** What to do, for `missing`: the ways to supply the secret, in resolution order. */
  readonly fix?: string;
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
    // `"name" is ...`, not `"name": ...`: a logger's key=value rule would mask the word after
    // `"redis_password":`, as it must for a value, and hide what is wrong.
    const lines = problems.map(
      (problem) => `  - "${problem.name}" is ${describeProblem(problem, 'required but not found')}`,
    );
    const count = problems.length === 1 ? '1 secret' : `${problems.length} secrets`;
    return `${count} could not be loaded:\n${lines.join('\n')}`;
  }
}

/**
 * Thrown by `SecretsService.getOrThrow()` / `getBufferOrThrow()` for an optional secret that was not
 * found at boot. `problem` holds where boot looked and how to supply it, as in `SecretsLoadError`.
 */
export class SecretNotAvailableError extends Error {
  override readonly name = 'SecretNotAvailableError';

  constructor(readonly problem: SecretLoadProblem) {
    // Rotation re-reads only secrets that were loaded, so a missing one takes a restart.
    super(
      `Secret "${problem.name}" is not available: ${describeProblem(problem, 'optional and not found at boot')}. ` +
        'Secrets are looked up at boot: restart once it is in place.',
    );
  }
}

/** What is wrong, where it looked and what to do: the one wording shared by both errors. */
function describeProblem(problem: SecretLoadProblem, missing: string): string {
  const what = problem.kind === 'missing' ? missing : `invalid: ${problem.reason}`;
  const looked = problem.lookedAt.length > 0 ? `; looked at: ${problem.lookedAt.join(', ')}` : '';
  const fix = problem.fix !== undefined ? `; to fix: ${problem.fix}` : '';
  return `${what}${looked}${fix}`;
}
