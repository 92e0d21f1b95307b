import type { Redis } from 'ioredis';

/** Options of `socketIoRedisClients()`. */
export interface SocketIoRedisClientsOptions {
  /**
   * Deadline of one `PUBLISH`. Default 2000: a broadcast that could not be sent for that long (no
   * master during a failover) is given up and counted in `stats().publishFailed`; a live UI
   * message is stale by then.
   */
  readonly publishTimeoutMs?: number;
}

/** Counters of `socketIoRedisClients(...).stats()`. */
export interface SocketIoRedisClientsStats {
  /** `PUBLISH` calls the master answered. */
  published: number;
  /** `PUBLISH` calls given up (no master within `publishTimeoutMs`): messages other instances lost. */
  publishFailed: number;
}

/** The two connections `createAdapter(pubClient, subClient)` of `@socket.io/redis-adapter` takes. */
export interface SocketIoRedisClients {
  readonly pubClient: Redis;
  readonly subClient: Redis;
  stats(): SocketIoRedisClientsStats;
}

/**
 * Connections for `@socket.io/redis-adapter` made from a module client: both are copies
 * (`duplicate()`), so they follow failovers, are closed at shutdown, and the subscriber's
 * channels are subscribed again on the new master. The adapter fires `PUBLISH` without handling
 * its rejection, which on plain ioredis ends as an unhandled rejection (a crash on Node's
 * default) whenever no master answers; here every publish is settled and counted.
 */
export function socketIoRedisClients(
  client: Redis,
  options: SocketIoRedisClientsOptions = {},
): SocketIoRedisClients {
  const publishTimeoutMs = options.publishTimeoutMs ?? 2000;
  if (!Number.isInteger(publishTimeoutMs) || publishTimeoutMs <= 0) {
    throw new TypeError(
      `socketIoRedisClients: publishTimeoutMs must be a positive integer (got ${publishTimeoutMs}), e.g. 2000`,
    );
  }
  const stats: SocketIoRedisClientsStats = { published: 0, publishFailed: 0 };
  const pubClient = client.duplicate({ commandTimeout: publishTimeoutMs });
  const publish = pubClient.publish.bind(pubClient) as (...args: unknown[]) => Promise<number>;
  (pubClient as { publish: unknown }).publish = (...args: unknown[]): Promise<number> => {
    const sent = publish(...args);
    sent.then(
      () => stats.published++,
      () => stats.publishFailed++,
    );
    return sent;
  };
  return { pubClient, subClient: client.duplicate(), stats: () => ({ ...stats }) };
}
