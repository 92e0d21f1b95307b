import type { ClusterOptions, RedisOptions } from 'ioredis';
import {
  MANAGED_CLUSTER_IOREDIS_KEYS,
  MANAGED_CLUSTER_REDIS_OPTIONS_KEYS,
  type ResolvedClusterClientDefinition,
  type ResolvedRedisClusterOptions,
} from './redis-cluster-options.resolver.js';
import {
  MANAGED_IOREDIS_KEYS,
  type ResolvedClientDefinition,
  type ResolvedRedisSentinelOptions,
} from './redis-sentinel-options.resolver.js';

/**
 * Socket deadline of a copy: longer than BullMQ's longest block (10 s, its `BZPOPMIN` cap and
 * `QueueEvents` `blockingTimeout`), so a healthy idle wait is never cut.
 */
export const DUPLICATE_MIN_SOCKET_TIMEOUT_MS = 15_000;

/**
 * The definition of `parent.duplicate(override)`'s copy. Libraries duplicate a client to run
 * blocking commands (BullMQ's `BZPOPMIN` and `XREAD BLOCK`) or to subscribe (Socket.IO), so a
 * copy gets settings that suit both: no per-command deadline (a block waits longer on purpose;
 * the socket deadline below catches a dead server), `maxRetriesPerRequest: null` (what BullMQ
 * requires of a blocking connection: a queued block waits for the reconnect instead of failing).
 * The caller's `override` comes last, as in ioredis (`lazyConnect: false` connects the copy at once).
 */
export function duplicateDefinition(
  parent: ResolvedClientDefinition,
  sequence: number,
  override: Partial<RedisOptions>,
  options: ResolvedRedisSentinelOptions,
): ResolvedClientDefinition {
  const refused: string[] = MANAGED_IOREDIS_KEYS.filter((key) => key in override);
  // Same rule as a client's own `ioredis` options: the master role check runs in the ready check.
  if (options.mode === 'sentinel' && override.enableReadyCheck === false)
    refused.push('enableReadyCheck: false');
  if (refused.length > 0) {
    throw new TypeError(
      `duplicate(): ${refused.join(', ')} cannot be overridden; the module sets ${refused.length > 1 ? 'them' : 'it'} on every client`,
    );
  }
  // Every module client is lazy; `lazyConnect: false` (ioredis's own monitor() asks for it) makes
  // the service connect the copy at once instead.
  const { lazyConnect: _lazyConnect, ...rest } = override;
  return {
    name: `${parent.name}#${sequence}`,
    role: parent.role,
    ioredis: {
      ...parent.ioredis,
      commandTimeout: undefined,
      socketTimeout: Math.max(options.socketTimeoutMs, DUPLICATE_MIN_SOCKET_TIMEOUT_MS),
      maxRetriesPerRequest: null,
      ...rest,
    },
  };
}

/**
 * The definition of `cluster.duplicate(startupNodes, override)`'s copy, with the same
 * blocking-safe settings as a Sentinel copy, on its node connections. The module owns the seed
 * nodes and the keys it manages; a value equal to the parent's is no change (BullMQ passes the
 * parent's `redisOptions` back with its `connectionName`), anything else of the caller's wins.
 */
export function clusterDuplicateDefinition(
  parent: ResolvedClusterClientDefinition,
  parentOptions: Partial<ClusterOptions>,
  sequence: number,
  startupNodes: readonly unknown[],
  override: Partial<ClusterOptions>,
  options: ResolvedRedisClusterOptions,
): ResolvedClusterClientDefinition {
  const { redisOptions: redisOverride = {}, lazyConnect: _lazyConnect, ...clusterOverride } = override;
  const cluster = changedFrom(parentOptions, clusterOverride);
  const nodes = changedFrom(parentOptions.redisOptions ?? {}, redisOverride);
  const refused: string[] = startupNodes.length > 0 ? ['startup nodes'] : [];
  refused.push(...Object.keys(MANAGED_CLUSTER_IOREDIS_KEYS).filter((key) => key in cluster));
  refused.push(
    ...Object.keys(MANAGED_CLUSTER_REDIS_OPTIONS_KEYS)
      .filter((key) => key in nodes)
      .map((key) => `redisOptions.${key}`),
  );
  if (refused.length > 0) {
    throw new TypeError(
      `duplicate(): ${refused.join(', ')} cannot be overridden; the module sets ${refused.length > 1 ? 'them' : 'it'} on every client`,
    );
  }
  return {
    name: `${parent.name}#${sequence}`,
    role: parent.role,
    ioredis: { ...parent.ioredis, ...cluster },
    redisOptionsOverride: {
      commandTimeout: undefined,
      socketTimeout: Math.max(options.socketTimeoutMs, DUPLICATE_MIN_SOCKET_TIMEOUT_MS),
      maxRetriesPerRequest: null,
      ...nodes,
    },
  };
}

/** The entries of `override` whose value differs from `parent`'s. */
function changedFrom<T extends object>(parent: T, override: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(override).filter(([key, value]) => (parent as Record<string, unknown>)[key] !== value),
  ) as Partial<T>;
}
