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

/** Counters of the Loki shipper, readable at any time (`LokiLogger.lokiStats()`). */
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
  /** Size of the waiting lines (UTF-16 code units). */
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
