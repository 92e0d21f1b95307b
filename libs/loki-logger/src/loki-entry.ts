/** One buffered line waiting for Loki. */
export interface LokiEntry {
  /** Milliseconds since the epoch. */
  readonly ms: number;
  /** Sub-millisecond nanoseconds (0..999 999), making timestamps unique per stream. */
  readonly sub: number;
  /** The JSON line (already redacted and, if needed, truncated). */
  readonly line: string;
  /** Structured metadata pairs (`request_id`, `user_id`, `trace_id`), when any. */
  readonly metadata: ReadonlyArray<readonly [string, string]> | undefined;
  /** Index of the stream (label set). */
  readonly stream: number;
  /** Accounted size in UTF-8 bytes: the line plus the structured metadata names and values. */
  readonly size: number;
}
