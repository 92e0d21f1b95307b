/**
 * Single flight plus a short reuse window for health checks: calls with the same key share the
 * check in flight, and reuse its answer for `freshnessMs` after that check started, as long as
 * the state it was made in (`fingerprint`: the client's connection, the failover generation) has
 * not changed. A changed fingerprint never joins nor reuses a check: a new one starts at once.
 *
 * Holds one entry per key (client and check options), never a timer.
 */
export class SharedHealthChecks<T> {
  readonly #entries = new Map<string, SharedCheck<T>>();
  readonly #now: () => number;
  /** Checks started (not shared, not reused): for the tests. */
  started = 0;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /**
   * The answer of `check()`, shared with the calls of the same `key` and `fingerprint` while it
   * runs, and reused by them while younger than `freshnessMs` (0: only shared while it runs).
   * `check` must not reject: a failure is an answer too (`down`).
   */
  run(key: string, fingerprint: string, freshnessMs: number, check: () => Promise<T>): Promise<T> {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (
      entry &&
      entry.fingerprint === fingerprint &&
      (entry.running || now - entry.startedAt < freshnessMs)
    ) {
      return entry.answer;
    }
    this.started++;
    const started: SharedCheck<T> = { fingerprint, startedAt: now, running: true, answer: check() };
    started.answer.then(
      () => (started.running = false),
      () => (started.running = false),
    );
    this.#entries.set(key, started);
    return started.answer;
  }
}

interface SharedCheck<T> {
  readonly fingerprint: string;
  readonly startedAt: number;
  running: boolean;
  readonly answer: Promise<T>;
}
