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
  role?: RedisClientRole;
  /**
   * Raw ioredis options for this client only, applied after the module's own `ioredis`.
   * Default none. Keys the module manages itself (`sentinels`, `name`, `Connector`) are refused.
   */
  ioredis?: Partial<RedisOptions>;
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
  sentinels?: string | ReadonlyArray<Partial<RedisAddress>>;
  /** Name of the monitored master (`sentinel monitor <name> ...`). Required in Sentinel mode. */
  masterName?: string;
  /** Standalone mode: `redis://[user:pass@]host:port[/db]` or `rediss://` for TLS. */
  url?: string;
  /** Standalone mode: host. Default none (give `url` or `host`). */
  host?: string;
  /** Standalone mode: port. Default 6379, the Redis default. */
  port?: number;
  /** Redis ACL user for data connections. Default none (the `default` user). */
  username?: string;
  /** Password for data connections (`requirepass` / ACL). Default none. Never logged. */
  password?: string;
  /** ACL user on the Sentinels. Default none. */
  sentinelUsername?: string;
  /** Password of the Sentinels (`requirepass` on Sentinel). Default none. Never logged. */
  sentinelPassword?: string;
  /** Database index. Default 0: Sentinel setups usually use one database. */
  db?: number;
  /**
   * TLS for data connections: `true` or Node `tls` options. Default off (plain TCP), as in
   * Redis. The server name is set to the resolved master host for certificate checks.
   */
  tls?: boolean | ConnectionOptions;
  /** TLS for Sentinel connections. Default: off; set it separately because Sentinel may differ. */
  sentinelTls?: boolean | ConnectionOptions;
  /**
   * Maps addresses that Sentinel announces (container/pod IPs) to reachable ones. Applied to
   * master and replica addresses and to `+switch-master` messages. Default none.
   */
  natMap?: RedisNatMap;
  /** TCP connect deadline per attempt. Default 2000: fails over to the next address quickly. */
  connectTimeoutMs?: number;
  /**
   * Deadline for every command, also while it waits in the offline queue. Default 2000: no
   * request can hang on a frozen master; set it below your request timeout.
   */
  commandTimeoutMs?: number;
  /**
   * Destroys a socket that received no data for this long while replies are pending. Default
   * 5000: catches a hung server even without Sentinel. Must exceed your longest blocking command.
   */
  socketTimeoutMs?: number;
  /** TCP keep-alive initial delay. Default 30000: detects half-open connections. */
  keepAliveMs?: number;
  /**
   * Reconnects a queued command may wait for before it is rejected. Default 3: bounds the wait
   * during reconnect loops (commandTimeoutMs bounds it in time as well).
   */
  maxRetriesPerRequest?: number;
  /** Deadline for one Sentinel query. Default 500: the Sentinel client spec asks for a few hundred ms. */
  sentinelCommandTimeoutMs?: number;
  /** Cap of the exponential reconnect backoff (with jitter). Default 2000. */
  reconnectMaxDelayMs?: number;
  /** Cap of the backoff between rounds when no Sentinel answers. Default 2000. */
  sentinelRetryMaxDelayMs?: number;
  /**
   * How long `onModuleInit` waits for every client to be ready. Default 10000; the app fails
   * to start with a clear error rather than serving without Redis. 0 = do not wait.
   */
  startupTimeoutMs?: number;
  /** Per-client `QUIT` deadline at shutdown, then the socket is destroyed. Default 2000. */
  shutdownTimeoutMs?: number;
  /** While a replica client reads from the master, how often to look for a healthy replica. Default 5000. */
  replicaRecheckIntervalMs?: number;
  /**
   * Safety net for a missed `+switch-master`: how often one Sentinel is asked for the master;
   * two answers in a row naming another master count as a switch. Default 5000.
   */
  topologyCheckIntervalMs?: number;
  /**
   * Subscribe to `+switch-master` and failover progress on every Sentinel. Default true: this
   * is what moves clients within milliseconds of a failover and lets `durableWrite` refuse
   * writes while a failover runs. Turn it off only if Sentinel pub/sub is not allowed; then
   * `topologyCheckIntervalMs` is the only trigger besides ioredis's own reconnects.
   */
  failoverWatcher?: boolean;
  /** The same error of the same client is logged at most once per this interval. Default 10000. */
  errorLogIntervalMs?: number;
  /**
   * Resend commands that were in flight when a connection dropped. Default false: a write
   * may already have been applied, and resending it after READONLY or a failover is unsafe.
   * In-flight commands are rejected with `RedisConnectionLostError` instead.
   */
  autoResendUnfulfilledCommands?: boolean;
  /**
   * Escape hatch: raw ioredis options for every client, applied over the module's defaults.
   * Default none. `enableReadyCheck: false` is refused in Sentinel mode (the role check runs
   * in the ready check), and so are `sentinels`, `name` and `Connector`.
   */
  ioredis?: Partial<RedisOptions>;
}

/** Extras of `forRoot` / `forRootAsync`: known when the module is declared, not from the factory. */
export interface RedisSentinelModuleExtras {
  /** Register the module globally. Default false: import it where needed. */
  isGlobal?: boolean;
  /**
   * Name of this module instance, for a second Sentinel group or a standalone cache next to the
   * first: `@InjectRedis('default', 'cache')`, `@InjectRedisClients('cache')`, ... Letters,
   * digits, `_`, `-`, `.`. Default none (= `'default'`): the plain tokens, `@InjectRedis()` and
   * injection by class, so a single instance needs no name. Each name once per app.
   */
  connectionName?: string;
  /**
   * Named clients and their roles, e.g. `{ default: 'master', reads: 'replica', events: 'subscriber' }`.
   * Default `{ default: 'master' }`. Declared here (not in the factory) because each name
   * becomes an injection token for `@InjectRedis(name)`.
   */
  clients?: Record<string, RedisClientRole | RedisClientDefinition>;
}
