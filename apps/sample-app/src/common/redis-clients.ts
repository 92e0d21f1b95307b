/** Named clients this app declares in `RedisSentinelModule.forRootAsync({ clients })`. */
export const REDIS_CLIENTS = {
  /**
   * Writes: cache, jobs (BullMQ shares it, and duplicates it for the worker's blocking reads),
   * sessions, publishing, rate-limit counts. Follows every failover.
   */
  default: 'master',
  /** Cache reads; falls back to the master while no replica is healthy. */
  reads: 'replica',
  /** Pub/sub subscription for the SSE notification stream. */
  events: 'subscriber',
} as const;
