import type { ConnectionOptions } from 'node:tls';
import type { ClusterOptions } from 'ioredis';
import type { RedisAddress } from './redis-address.js';
import type { RedisNatMap } from './redis-sentinel-options.interface.js';

/**
 * What a Cluster client sends its commands to.
 * - `master`: reads and writes on the master of each key's slot; follows every failover.
 * - `replica`: read scaling: read-only commands go to a replica of the key's slot (ioredis
 *   `scaleReads: 'slave'`), writes still go to the master.
 */
export type RedisClusterClientRole = 'master' | 'replica';

export const REDIS_CLUSTER_CLIENT_ROLES: readonly RedisClusterClientRole[] = ['master', 'replica'];

/** One named Cluster client. A bare role string is shorthand for `{ role }`. */
export interface RedisClusterClientDefinition {
  /** Default `'master'`: the safe choice for writes. */
  readonly role?: RedisClusterClientRole;
  /**
   * Raw ioredis `ClusterOptions` for this client only, applied after the module's own `ioredis`.
   * Default none. Keys the module manages are refused (see `RedisClusterModuleOptions.ioredis`).
   */
  readonly ioredis?: Partial<ClusterOptions>;
}

/**
 * Options of `RedisClusterModule.forRoot()` / the `useFactory` of `forRootAsync()`. Every timeout
 * is in milliseconds. Options that also exist on `RedisSentinelModule` mean the same there.
 */
export interface RedisClusterModuleOptions {
  /**
   * Seed nodes: `[{host, port}]` or `"h1:7000,h2:7001"`. No default. The client asks them for the
   * slot map at startup and learns every other node from it; list several, in different failure
   * domains, so that one being down does not block a start.
   */
  readonly nodes?: string | ReadonlyArray<Partial<RedisAddress>>;
  /** Redis ACL user for data connections. Default none (the `default` user). */
  readonly username?: string;
  /** Password of the nodes (`requirepass` / ACL). Default none. Never logged. */
  readonly password?: string;
  /** TLS for every node connection: `true` or Node `tls` options. Default off (plain TCP), as in Redis. */
  readonly tls?: boolean | ConnectionOptions;
  /**
   * Maps the addresses that the nodes announce (`CLUSTER SLOTS`, `MOVED`: container/pod IPs) to
   * reachable ones. Default none.
   */
  readonly natMap?: RedisNatMap;
  /** TCP connect deadline per attempt. Default 2000: a dead node is given up quickly. */
  readonly connectTimeoutMs?: number;
  /**
   * Deadline for every command, redirects and `CLUSTERDOWN` retries included. Default 2000: no
   * request can hang on a frozen master; set it below your request timeout.
   */
  readonly commandTimeoutMs?: number;
  /**
   * Destroys a node socket that received no data for this long while replies are pending. Default
   * 5000: catches a hung node. Must exceed your longest blocking command.
   */
  readonly socketTimeoutMs?: number;
  /** TCP keep-alive initial delay. Default 30000: detects half-open connections. */
  readonly keepAliveMs?: number;
  /**
   * Reconnects a queued command may wait for before it is rejected. Default 3: bounds the wait
   * during reconnect loops (commandTimeoutMs bounds it in time as well).
   */
  readonly maxRetriesPerRequest?: number;
  /** Cap of the exponential backoff while no seed node answers (with jitter). Default 2000. */
  readonly reconnectMaxDelayMs?: number;
  /**
   * How long `onModuleInit` waits for every client to be ready (slot map loaded, cluster state
   * ok). Default 10000; the app fails to start with a clear error rather than serving without
   * Redis. 0 = do not wait.
   */
  readonly startupTimeoutMs?: number;
  /** Per-client `QUIT` deadline at shutdown (all nodes together), then the sockets are destroyed. Default 2000. */
  readonly shutdownTimeoutMs?: number;
  /** The same error of the same client is logged at most once per this interval. Default 10000. */
  readonly errorLogIntervalMs?: number;
  /**
   * Safety net: how often the slot map is reloaded even when nothing failed. Default 5000: a
   * failover or resharding that no error revealed is seen within seconds.
   */
  readonly slotsRefreshIntervalMs?: number;
  /**
   * Deadline of one slot map query (`CLUSTER SLOTS`) on one node; the next node is asked after
   * it. Default 1000: a frozen node delays a refresh by at most this.
   */
  readonly slotsRefreshTimeoutMs?: number;
  /**
   * While a node the client used is unreachable (error, closed connection), the slot map is
   * reloaded this often until its slots have a new owner (for at most 10 s after the last sign of
   * failure), asking one node at a time and skipping one that failed; each node then has
   * max(200, 4 × this) ms (at most `slotsRefreshTimeoutMs`) to answer. Default 50: the client moves
   * to a promoted replica within about this long after the cluster agrees on it.
   */
  readonly failoverRefreshIntervalMs?: number;
  /**
   * Escape hatch: raw ioredis `ClusterOptions` for every client, applied over the module's
   * defaults. Default none. Refused because the module manages them: `scaleReads` (use the client
   * role), `natMap`, `slotsRefreshInterval`, `slotsRefreshTimeout` (use the module options),
   * `retryDelayOnFailover` (never resend a command that may have been applied), `lazyConnect`, and
   * `redisOptions.autoResendUnfulfilledCommands`, `redisOptions.password`, `redisOptions.username`.
   */
  readonly ioredis?: Partial<ClusterOptions>;
}

/** Extras of `RedisClusterModule.forRoot` / `forRootAsync`: known when the module is declared. */
export interface RedisClusterModuleExtras {
  /** Register the module globally. Default false: import it where needed. */
  readonly isGlobal?: boolean;
  /**
   * Name of this module instance, as for `RedisSentinelModule`: `@InjectRedis('default', 'shards')`.
   * Default none (= `'default'`). Each name once per app, across Sentinel and Cluster modules: a
   * Sentinel module and a Cluster module in one app need distinct names (one may omit it).
   */
  readonly connectionName?: string;
  /**
   * Named clients and their roles, e.g. `{ default: 'master', reads: 'replica' }`. Default
   * `{ default: 'master' }`. Each name becomes an injection token for `@InjectRedis(name)`.
   */
  readonly clients?: Record<string, RedisClusterClientRole | RedisClusterClientDefinition>;
}
