/** Timing helpers: capped exponential backoff with jitter, an abortable sleep, a deadline race. */

/** Exponential backoff from `baseMs`, capped at `maxMs`, plus up to `jitterMs` random jitter. */
export function cappedBackoff(attempt: number, baseMs: number, maxMs: number, jitterMs: number): number {
  const exp = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), maxMs);
  return Math.round(exp + Math.random() * jitterMs);
}

/** Resolves after `ms`, or at once when `signal` aborts. Never keeps a timer after settling. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Races `promise` against a deadline; the timer is always cleared. */
export async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  message: string | (() => string),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineExceededError(typeof message === 'function' ? message() : message)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
}
