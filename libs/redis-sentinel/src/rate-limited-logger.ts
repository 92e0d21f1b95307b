import type { Logger } from '@nestjs/common';

/**
 * Logs an entry at most once per `intervalMs` per key, with the count of suppressed repeats:
 * a Redis outage produces one line per interval, never a flood.
 */
export class RateLimitedLogger {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  error(key: string, entry: Record<string, unknown>): void {
    this.log('error', key, entry);
  }

  warn(key: string, entry: Record<string, unknown>): void {
    this.log('warn', key, entry);
  }

  private log(level: 'error' | 'warn', key: string, entry: Record<string, unknown>): void {
    const now = Date.now();
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    this.last.set(key, { at: now, suppressed: 0 });
    this.logger[level]({
      ...entry,
      ...(seen?.suppressed ? { suppressedSinceLastLog: seen.suppressed } : {}),
    });
  }
}
