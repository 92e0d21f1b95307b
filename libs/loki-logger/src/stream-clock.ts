/**
 * Nanosecond timestamps, strictly increasing per stream. Loki treats two entries with the same
 * timestamp and line as duplicates and keeps one; a millisecond clock alone would merge distinct
 * identical lines logged in the same millisecond. The sub-millisecond part is a counter.
 */
export class StreamClock {
  private lastMs = 0;
  private sub = 0;

  /** Returns `[ms, subNs]` with `subNs` in 0..999 999; `ms * 1e6 + subNs` never repeats or goes back. */
  next(nowMs: number): [number, number] {
    if (nowMs > this.lastMs) {
      this.lastMs = nowMs;
      this.sub = 0;
    } else if (++this.sub > 999_999) {
      this.lastMs += 1;
      this.sub = 0;
    }
    return [this.lastMs, this.sub];
  }
}

/** Decimal nanoseconds since the epoch, as Loki's JSON push API wants them (a string). */
export function nanosString(ms: number, sub: number): string {
  const s = String(sub);
  return `${ms}${'000000'.slice(s.length)}${s}`;
}
