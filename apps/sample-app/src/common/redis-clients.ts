/** Named clients this app declares in `RedisSentinelModule.forRootAsync({ clients })`. */
export const REDIS_CLIENTS = {
  /** Writes: cache, jobs, sessions, publishing. Follows every failover. */
  default: 'master',
  /** Cache reads; falls back to the master while no replica is healthy. */
  reads: 'replica',
  /** Pub/sub subscriptions for the notification stream. */
  events: 'subscriber',
  /** The job worker's blocking `XREADGROUP`: its own connection, so it never delays requests. */
  worker: 'master',
} as const;
