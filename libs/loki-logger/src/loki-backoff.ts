/** Longest `Retry-After` honoured, so a bogus header cannot park shipping for hours. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Delay before retry number `attempt` (1, 2, ...): exponential from `minMs`, capped at `maxMs`, with
 * jitter, a random delay in [base/2, base], so restarted replicas do not retry in step.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

/** The delay Loki asked for (`Retry-After`), capped at `MAX_RETRY_AFTER_MS`. */
export function retryAfterDelay(retryAfterMs: number | undefined): number | undefined {
  return retryAfterMs === undefined ? undefined : Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
}
