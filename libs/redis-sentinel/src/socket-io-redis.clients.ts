import type { Cluster, Redis } from 'ioredis';
import { isCluster } from './cluster-client.check.js';

/** Options of `socketIoRedisClients()`. */
export interface SocketIoRedisClientsOptions {
  /**
   * Deadline of one `PUBLISH` sent to a master that does not answer (a frozen one). Default 2000:
   * a live UI message is stale by then. While no master is connected at all (a failover's
   * reconnect), a broadcast is given up at once rather than queued and sent seconds late.
   * Either way it is counted in `stats().publishFailed`.
   */
  readonly publishTimeoutMs?: number;
}

/** Counters of `socketIoRedisClients(...).stats()`. */
export interface SocketIoRedisClientsStats {
  /** `PUBLISH` calls the master answered. */
  published: number;
  /**
   * `PUBLISH` calls given up (no master connected, or no answer within `publishTimeoutMs`): the
   * broadcasts other instances missed. A given-up publish is never sent later.
   */
  publishFailed: number;
}

/**
 * The two connections `createAdapter(pubClient, subClient)` of `@socket.io/redis-adapter` takes:
 * `Redis` copies of a `RedisSentinelModule` client, `Cluster` copies of a `RedisClusterModule` one.
 */
export interface SocketIoRedisClients<C extends Redis | Cluster = Redis> {
  readonly pubClient: C;
  readonly subClient: C;
  stats(): SocketIoRedisClientsStats;
}

/**
 * Connections for `@socket.io/redis-adapter` made from a module client: both are copies
 * (`duplicate()`), so they follow failovers, are closed at shutdown, and the subscriber's
 * channels are subscribed again on the new master. The adapter fires `PUBLISH` without handling
 * its rejection, which on plain ioredis ends as an unhandled rejection (a crash on Node's
 * default) whenever no master answers; here every publish is settled and counted.
 *
 * On Redis Cluster the copies are `Cluster`s, for the classic adapter (`createAdapter`): a
 * `PUBLISH` reaches every node over the cluster bus, and ioredis subscribes through one node that
 * it replaces (subscribing again) when that node goes.
 */
export function socketIoRedisClients(
  client: Redis,
  options?: SocketIoRedisClientsOptions,
): SocketIoRedisClients;
export function socketIoRedisClients(
  client: Cluster,
  options?: SocketIoRedisClientsOptions,
): SocketIoRedisClients<Cluster>;
/** An app that runs in either mode (its client typed `Redis | Cluster`) gets copies of that type. */
export function socketIoRedisClients(
  client: Redis | Cluster,
  options?: SocketIoRedisClientsOptions,
): SocketIoRedisClients<Redis | Cluster>;
export function socketIoRedisClients(
  client: Redis | Cluster,
  options: SocketIoRedisClientsOptions = {},
): SocketIoRedisClients<Redis | Cluster> {
  const publishTimeoutMs = options.publishTimeoutMs ?? 2000;
  if (!Number.isInteger(publishTimeoutMs) || publishTimeoutMs <= 0) {
    throw new TypeError(
      `socketIoRedisClients: publishTimeoutMs must be a positive integer (got ${publishTimeoutMs}), e.g. 2000`,
    );
  }
  const stats: SocketIoRedisClientsStats = { published: 0, publishFailed: 0 };
  // No offline queue: ioredis would reject a queued publish at its deadline and still send it once
  // a master answers, so a broadcast counted as lost could arrive seconds late, out of date.
  const pubClient = isCluster(client)
    ? client.duplicate([], { enableOfflineQueue: false, redisOptions: { commandTimeout: publishTimeoutMs } })
    : client.duplicate({ commandTimeout: publishTimeoutMs, enableOfflineQueue: false });
  // Without an offline queue the first broadcasts would fail while the copy connects: connect now.
  pubClient.connect().catch(() => undefined);
  const publish = pubClient.publish.bind(pubClient) as (...args: unknown[]) => Promise<number>;
  (pubClient as { publish: unknown }).publish = (...args: unknown[]): Promise<number> => {
    const sent = publish(...args);
    sent.then(
      () => stats.published++,
      () => stats.publishFailed++,
    );
    return sent;
  };
  return { pubClient, subClient: resubscribingCopy(client), stats: () => ({ ...stats }) };
}

/**
 * The subscriber copy. The adapter (un)subscribes without handling a rejection, and ioredis restores
 * after a reconnect only the subscriptions the server confirmed. A subscribe rejected while no
 * master is reachable (no Sentinel answered yet) would leave this instance deaf to the others for
 * good: it is settled here and asked again once the copy is ready. An unsubscribe at shutdown
 * during an outage is settled too (the copy is closing anyway).
 */
function resubscribingCopy(client: Redis | Cluster): Redis | Cluster {
  const subClient: Redis | Cluster = isCluster(client) ? client.duplicate() : client.duplicate();
  const copy = subClient as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const method of ['subscribe', 'psubscribe'] as const) {
    const original = copy[method]!.bind(subClient);
    const retrying = (...args: unknown[]): Promise<unknown> => {
      const attempt = original(...args);
      attempt.catch(() => {
        if (subClient.status !== 'end') subClient.once('ready', () => void retrying(...args));
      });
      return attempt;
    };
    copy[method] = retrying;
  }
  for (const method of ['unsubscribe', 'punsubscribe'] as const) {
    const original = copy[method]!.bind(subClient);
    copy[method] = (...args: unknown[]): Promise<unknown> => {
      const attempt = original(...args);
      attempt.catch(() => undefined);
      return attempt;
    };
  }
  return subClient;
}
