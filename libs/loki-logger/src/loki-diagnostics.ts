import type { Writable } from 'node:stream';

/** A problem is reported on the diagnostics stream at most this often (per kind). */
const NOTE_INTERVAL_MS = 60_000;

/**
 * The shipper's reports on `diagnostics` (stderr by default): one-off lines, and rate-limited ones
 * (at most once a minute per kind, with the count of what happened meanwhile), so an outage writes
 * a line a minute, not one per push.
 */
export class LokiDiagnostics {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly out: Writable) {}

  /** One line, prefixed with the lib's name. */
  write(text: string): void {
    this.out.write(`[@bastion/loki-logger] ${text}\n`);
  }

  /** Reports a drop, at most once a minute per reason (with the count of the quiet ones). */
  dropped(reason: string, count: number, detail: string): void {
    this.limited(
      reason,
      count,
      (earlier) =>
        `dropped ${count} lines${earlier ? ` (+${earlier} since the last report)` : ''} [${reason}]: ${detail}`,
    );
  }

  /** Reports a credential problem at push time, at most once a minute (with the count meanwhile). */
  credential(text: string): void {
    this.limited(
      'credential',
      1,
      (earlier) => `${text}${earlier ? ` (+${earlier} requests since the last report)` : ''}`,
    );
  }

  /** Whether some drops were reported only as "first of a minute" (their totals are owed). */
  hasSuppressedDrops(): boolean {
    for (const [kind, note] of this.last) if (kind !== 'credential' && note.suppressed > 0) return true;
    return false;
  }

  private limited(kind: string, count: number, line: (earlier: number) => string): void {
    const now = Date.now();
    const last = this.last.get(kind);
    if (last !== undefined && now - last.at < NOTE_INTERVAL_MS) {
      last.suppressed += count;
      return;
    }
    this.last.set(kind, { at: now, suppressed: 0 });
    this.write(line(last?.suppressed ?? 0));
  }
}
