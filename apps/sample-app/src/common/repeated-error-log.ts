import type { Logger } from '@nestjs/common';

/** How long the same error message stays quiet after it was logged. */
const QUIET_MS = 10_000;

/**
 * Logs an error the first time its message is seen, then at most once per QUIET_MS with the number
 * of repeats in between. BullMQ and the Socket.IO adapter emit an error per failed command; while
 * Redis fails over that is dozens per second of the same line.
 */
export class RepeatedErrorLog {
  private readonly seen = new Map<string, { loggedAt: number; repeats: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
  ) {}

  report(error: unknown): void {
    const text = String((error as Error)?.message ?? error);
    const now = Date.now();
    const entry = this.seen.get(text);
    if (entry && now - entry.loggedAt < QUIET_MS) {
      entry.repeats++;
      return;
    }
    this.seen.set(text, { loggedAt: now, repeats: 0 });
    if (this.seen.size > 100) this.seen.delete(this.seen.keys().next().value!);
    this.logger.warn({
      message: this.message,
      error: text,
      ...(entry?.repeats ? { repeatsSinceLastLog: entry.repeats } : {}),
    });
  }
}
