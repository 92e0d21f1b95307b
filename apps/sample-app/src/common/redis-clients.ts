/** Named clients this app declares in `RedisSentinelModule.forRootAsync({ clients })`. */
export const REDIS_CLIENTS = {
  /** Writes: cache, sessions, publishing, rate-limit counts. Follows every failover. */
  default: 'master',
  /**
   * BullMQ's: its queue and worker share it, and it duplicates it for the worker's blocking reads.
   * Its own client because `durableEnqueue`'s WAIT holds the connection while replicas lag.
   */
  jobs: 'master',
  /** Cache reads; falls back to the master while no replica is healthy. */
  reads: 'replica',
  /** Pub/sub subscription for the SSE notification stream. */
  events: 'subscriber',
} as const;
