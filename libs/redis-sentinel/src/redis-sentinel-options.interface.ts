import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions } from 'ioredis';
import type { RedisAddress } from './redis-address.js';

/**
 * What a client connects to.
 * - `master`: reads and writes; follows every failover.
 * - `replica`: read scaling; connects to a healthy replica, falls back to the master while
 *   there is none, and moves back once one is healthy again.
 * - `subscriber`: a dedicated pub/sub connection on the master; subscriptions are restored
 *   after every reconnect and failover.
 */
export type RedisClientRole = 'master' | 'replica' | 'subscriber';

export const REDIS_CLIENT_ROLES: readonly RedisClientRole[] = ['master', 'replica', 'subscriber'];

/** One named client. A bare role string is shorthand for `{ role }`. */
export interface RedisClientDefinition {
  /** Default `'master'`: the safe choice for writes. */
  readonly role?: RedisClientRole;
  /**
   * Raw ioredis options for this client only, applied after the module's own `ioredis`.
   * Default none. Keys the module manages itself (`sentinels`, `name`, `Connector`, `role`) are refused.
   */
  readonly ioredis?: Partial<RedisOptions>;
}

/** `natMap` as in ioredis: `"internalHost:port"` → externally reachable address, or a function. */
export type RedisNatMap =
  Record<string, RedisAddress> | ((address: string) => RedisAddress | null | undefined);

/**
 * Options of `RedisSentinelModule.forRoot()` / the `useFactory` of `forRootAsync()`.
 * Give either `sentinels` + `masterName` (Sentinel mode, production) or `url` / `host`
 * (standalone mode, development). Every timeout is in milliseconds.
 */
export interface RedisSentinelModuleOptions {
  /**
   * Sentinel addresses: `[{host, port}]` or `"h1:26379,h2:26379"`. No default. Use at least
   * three Sentinels in independent failure domains; the client asks them in order.
   */
  readonly sentinels?: string | ReadonlyArray<Partial<RedisAddress>>;
  /** Name of the monitored master (`sentinel monitor <name> ...`). Required in Sentinel mode. */
  readonly masterName?: string;
  /** Standalone mode: `redis://[user:pass@]host:port[/db]` or `rediss://` for TLS. */
  readonly url?: string;
  /** Standalone mode: host. Default none (give `url` or `host`). */
  readonly host?: string;
  /** Standalone mode: port. Default 6379, the Redis default. */
  readonly port?: number;
  /** Redis ACL user for data connections. Default none (the `default` user). */
  readonly username?: string;
  /** Password for data connections (`requirepass` / ACL). Default none. Never logged. */
  readonly password?: string;
  /** ACL user on the Sentinels. Default none. */
  readonly sentinelUsername?: string;
  /** Password of the Sentinels (`requirepass` on Sentinel). Default none. Never logged. */
  readonly sentinelPassword?: string;
  /** Database index. Default 0: Sentinel setups usually use one database. */
  readonly db?: number;
  /**
   * TLS for data connections: `true` or Node `tls` options. Default off (plain TCP), as in
   * Redis. The server name is set to the resolved master host for certificate checks.
   */
  readonly tls?: boolean | ConnectionOptions;
  /** TLS for Sentinel connections. Default: off; set it separately because Sentinel may differ. */
  readonly sentinelTls?: boolean | ConnectionOptions;
  /**
   * Maps addresses that Sentinel announces (container/pod IPs) to reachable ones. Applied to
   * master and replica addresses and to `+switch-master` messages. Default none.
   */
  readonly natMap?: RedisNatMap;
  /** TCP connect deadline per attempt. Default 2000: fails over to the next address quickly. */
  readonly connectTimeoutMs?: number;
  /**
   * Deadline for every command, also while it waits in the offline queue. Default 2000: no
   * request can hang on a frozen master; set it below your request timeout.
   */
  readonly commandTimeoutMs?: number;
  /**
   * Destroys a socket that received no data for this long while replies are pending. Default
   * 5000: catches a hung server even without Sentinel. Must exceed your longest blocking command.
   */
  readonly socketTimeoutMs?: number;
  /** TCP keep-alive initial delay. Default 30000: detects half-open connections. */
  readonly keepAliveMs?: number;
  /**
   * Reconnects a queued command may wait for before it is rejected. Default 3: bounds the wait
   * during reconnect loops (commandTimeoutMs bounds it in time as well).
   */
  readonly maxRetriesPerRequest?: number;
  /** Deadline for one Sentinel query. Default 500: the Sentinel client spec asks for a few hundred ms. */
  readonly sentinelCommandTimeoutMs?: number;
  /** Cap of the exponential reconnect backoff (with jitter). Default 2000. */
  readonly reconnectMaxDelayMs?: number;
  /** Cap of the backoff between rounds when no Sentinel answers. Default 2000. */
  readonly sentinelRetryMaxDelayMs?: number;
  /**
   * How long `onModuleInit` waits for every client to be ready. Default 10000; the app fails
   * to start with a clear error rather than serving without Redis. 0 = do not wait.
   */
  readonly startupTimeoutMs?: number;
  /** Per-client `QUIT` deadline at shutdown, then the socket is destroyed. Default 2000. */
  readonly shutdownTimeoutMs?: number;
  /** While a replica client reads from the master, how often to look for a healthy replica. Default 5000. */
  readonly replicaRecheckIntervalMs?: number;
  /**
   * Safety net for a missed `+switch-master`: how often every Sentinel is asked for the master;
   * another master named by a majority of the configured Sentinels, twice in a row, counts as a
   * switch. Default 5000.
   */
  readonly topologyCheckIntervalMs?: number;
  /**
   * Subscribe to `+switch-master` and failover progress on every Sentinel. Default true: this
   * is what moves clients within milliseconds of a failover and lets `durableWrite` refuse
   * writes while a failover runs. Turn it off only if Sentinel pub/sub is not allowed; then
   * `topologyCheckIntervalMs` is the only trigger besides ioredis's own reconnects.
   */
  readonly failoverWatcher?: boolean;
  /** The same error of the same client is logged at most once per this interval. Default 10000. */
  readonly errorLogIntervalMs?: number;
  /**
   * Resend every command that was in flight when a connection dropped. Default false: a write
   * may already have been applied, and resending it after READONLY or a failover is unsafe. A
   * lone read-only command (`GET`, `XREAD` without a group) is still sent again on the next
   * connection; the others are rejected with `RedisConnectionLostError`.
   */
  readonly autoResendUnfulfilledCommands?: boolean;
  /**
   * Escape hatch: raw ioredis options for every client, applied over the module's defaults.
   * Default none. `enableReadyCheck: false` is refused in Sentinel mode (the role check runs
   * in the ready check), and so are `sentinels`, `name`, `Connector` and `role`.
   */
  readonly ioredis?: Partial<RedisOptions>;
}

/** Extras of `forRoot` / `forRootAsync`: known when the module is declared, not from the factory. */
export interface RedisSentinelModuleExtras {
  /** Register the module globally. Default false: import it where needed. */
  readonly isGlobal?: boolean;
  /**
   * Name of this module instance, for a second Sentinel group or a standalone cache next to the
   * first: `@InjectRedis('default', 'cache')`, `@InjectRedisClients('cache')`, ... Letters,
   * digits, `_`, `-`, `.`. Default none (= `'default'`): the plain tokens, `@InjectRedis()` and
   * injection by class, so a single instance needs no name. Each name once per app.
   */
  readonly connectionName?: string;
  /**
   * Named clients and their roles, e.g. `{ default: 'master', reads: 'replica', events: 'subscriber' }`.
   * Default `{ default: 'master' }`. Declared here (not in the factory) because each name
   * becomes an injection token for `@InjectRedis(name)`.
   */
  readonly clients?: Record<string, RedisClientRole | RedisClientDefinition>;
}
