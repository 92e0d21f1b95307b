/** Why lines were dropped before reaching Loki. */
export interface LokiDropCounts {
  /** The buffer was full (Loki down or slow for long): the oldest lines made room. */
  bufferFull: number;
  /** Loki answered 400 (invalid entries; Loki kept the valid ones, so the batch is never re-sent). */
  badRequest: number;
  /** Loki answered 413 (request too large). */
  tooLarge: number;
  /** Loki answered another 4xx (401 no tenant, 403, 404 wrong URL...): a configuration problem. */
  rejected: number;
  /** Still buffered when the shutdown flush deadline passed, or logged after shutdown. */
  shutdown: number;
}

/** Counters of the Loki shipper, readable at any time (`LokiLogger.stats()`). */
export interface LokiShipperStats {
  /** Lines Loki accepted (2xx). */
  sent: number;
  /** Lines dropped, by reason. */
  dropped: LokiDropCounts;
  /** Pushes retried (429, 5xx, network error, timeout). */
  retries: number;
  /** Lines truncated to `maxLineBytes`. */
  truncated: number;
  /** Lines waiting, including the batch in flight. */
  bufferedEntries: number;
  /** Size of the waiting lines and their structured metadata (UTF-8 bytes). */
  bufferedBytes: number;
  /** Buffer fill, 0..1 (the larger of entries and bytes). */
  bufferFill: number;
  /** Epoch ms of the last accepted push. */
  lastSuccessAt?: number;
  /** Epoch ms of the last failed push. */
  lastFailureAt?: number;
  /** Epoch ms of the last drop (any reason). */
  lastDropAt?: number;
  /**
   * Short description of the current trouble (status and Loki's message, or the network error) of
   * a failed or refused push. Cleared by the next accepted push (`lastFailureAt` keeps the time).
   */
  lastError?: string;
  /** Failed pushes since the last success. */
  consecutiveFailures: number;
  /** Whether structured metadata is currently sent (false after the Loki 2.x fallback). */
  structuredMetadata: boolean;
}

/**
 * The shipper's counters and its drop accounting: what Loki took, what was dropped and why, the
 * current trouble. `stats()` gives a copy. Internal (apps read `LokiShipperStats`).
 */
export class LokiShipperCounters {
  sent = 0;
  retries = 0;
  truncated = 0;
  readonly dropped: LokiDropCounts = { bufferFull: 0, badRequest: 0, tooLarge: 0, rejected: 0, shutdown: 0 };
  lastSuccessAt: number | undefined;
  lastFailureAt: number | undefined;
  lastDropAt: number | undefined;
  lastError: string | undefined;
  consecutiveFailures = 0;

  /** `count` lines dropped for `reason`. */
  drop(reason: keyof LokiDropCounts, count: number): void {
    this.dropped[reason] += count;
    this.lastDropAt = Date.now();
  }

  /**
   * Entries of the batch in flight that overflow had counted `bufferFull`: Loki's answer decides
   * their fate (delivered with the batch, or dropped for the batch's reason).
   */
  uncountOverflow(count: number): void {
    this.dropped.bufferFull -= count;
  }

  /** Loki accepted `count` lines. `lastError` describes the current trouble: a recovered shipper must not look failing. */
  accepted(count: number): void {
    this.sent += count;
    this.lastSuccessAt = Date.now();
    this.consecutiveFailures = 0;
    this.lastError = undefined;
  }

  /** A push failed (network, timeout, 429, 5xx): it will be retried. */
  failed(detail: string): void {
    this.consecutiveFailures++;
    this.lastFailureAt = Date.now();
    this.lastError = detail;
  }

  /** Loki answered, but refused the batch (4xx): Loki is reachable, the batch is the problem. */
  refused(detail: string): void {
    this.consecutiveFailures = 0;
    this.lastError = detail;
  }

  snapshot(
    buffer: { entries: number; bytes: number; fill: number },
    structuredMetadata: boolean,
  ): LokiShipperStats {
    return {
      sent: this.sent,
      dropped: { ...this.dropped },
      retries: this.retries,
      truncated: this.truncated,
      bufferedEntries: buffer.entries,
      bufferedBytes: buffer.bytes,
      bufferFill: buffer.fill,
      lastSuccessAt: this.lastSuccessAt,
      lastFailureAt: this.lastFailureAt,
      lastDropAt: this.lastDropAt,
      lastError: this.lastError,
      consecutiveFailures: this.consecutiveFailures,
      structuredMetadata,
    };
  }

  /** `reason=count` of every reason with drops, for the shutdown line. */
  dropTotals(): string {
    return Object.entries(this.dropped)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${reason}=${n}`)
      .join(', ');
  }
}
