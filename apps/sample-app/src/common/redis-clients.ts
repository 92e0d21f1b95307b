import type { Cluster, Redis } from 'ioredis';

/**
 * What `@InjectRedis()` gives this app: an ioredis `Redis` in Sentinel (and standalone) mode, a
 * `Cluster` in Redis Cluster mode. The code here uses only what both have.
 */
export type RedisClient = Redis | Cluster;

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

/**
 * The same names in `RedisClusterModule.forRootAsync({ clients })`. A Cluster has no subscriber
 * role: ioredis subscribes a `Cluster` on a connection of its own, which it moves to another node
 * when that one fails, and Redis Cluster delivers a `PUBLISH` to every node's subscribers.
 */
export const REDIS_CLUSTER_CLIENTS = {
  default: 'master',
  jobs: 'master',
  reads: 'replica',
  events: 'master',
} as const;
