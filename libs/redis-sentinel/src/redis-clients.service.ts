import { inspect } from 'node:util';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import { withDeadline } from './timing.js';
import { FailoverWatcher } from './failover-watcher.js';
import {
  ManagedRedisClient,
  type DurableWriteCounts,
  type RedisClientStats,
} from './managed-redis-client.js';
import { RateLimitedLogger } from './rate-limited-logger.js';
import { formatAddress } from './redis-address.js';
import {
  DEFAULT_REDIS_CLIENT,
  DEFAULT_REDIS_CONNECTION,
  REDIS_CONNECTION_NAME,
  REDIS_SENTINEL_EVENTS,
  REDIS_SENTINEL_RESOLVED_OPTIONS,
} from './redis-sentinel.constants.js';
import { RedisClientNotFoundError } from './redis-sentinel.errors.js';
import { duplicateDefinition } from './duplicate-definition.js';
import { RedisSentinelEvents } from './redis-sentinel.events.js';
import { SentinelQueryPool } from './sentinel-query-pool.js';
import { waitForClients } from './startup-problems.js';
import type { RedisClientRole } from './redis-sentinel-options.interface.js';
import type {
  ResolvedClientDefinition,
  ResolvedRedisSentinelOptions,
} from './redis-sentinel-options.resolver.js';

/**
 * How long the boot waits, after the first Sentinel subscription, for the others to be heard.
 * Local Sentinels answer in milliseconds; a frozen one must not hold the boot for long.
 */
const BOOT_ALL_SENTINELS_GRACE_MS = 2000;

/** Snapshot for dashboards and debugging. Never contains a password. */
export interface RedisSentinelStats {
  mode: 'sentinel' | 'standalone';
  masterName: string | undefined;
  /** Master address as last announced by Sentinel or verified by a master client. */
  currentMaster: string | undefined;
  /** `+switch-master` announcements seen since start. */
  failoversSeen: number;
  /** Sentinels in the options (0 in standalone mode). */
  sentinels: number;
  /**
   * Sentinels the failover watcher hears now (subscribed and answering its PINGs). `undefined` in
   * standalone mode or with `failoverWatcher: false`.
   */
  sentinelsHeard: number | undefined;
  /** Outcomes of `durableWrite`, `durableCall` and `durableEnqueue` on this module's clients. */
  durableWrites: DurableWriteCounts;
  clients: RedisClientStats[];
  /** Open copies made by `duplicate()` (BullMQ's blocking connections, Socket.IO's subscriber). */
  duplicates: RedisClientStats[];
}

/**
 * Owns every named client: creates them (no socket yet), connects them in `onModuleInit`, and
 * closes them (bounded) in `onApplicationShutdown`. `get(name)` returns the ioredis client.
 */
@Injectable()
export class RedisClientsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger: Logger;
  // `#private`: the clients and options hold the passwords, and `util.inspect` never shows these.
  readonly #clients = new Map<string, ManagedRedisClient>();
  /** Copies made by `redis.duplicate()` that are open (or connecting): closed at shutdown too. */
  readonly #duplicates = new Set<ManagedRedisClient>();
  #duplicatesMade = 0;
  readonly #durableWrites: DurableWriteCounts = { confirmed: 0, unconfirmed: 0, refused: 0 };
  readonly #errors: RateLimitedLogger;
  readonly #watcher: FailoverWatcher | undefined;
  /** The health indicator's persistent Sentinel connections (Sentinel mode), closed at shutdown. */
  readonly #sentinelQueries: SentinelQueryPool | undefined;
  readonly #options: ResolvedRedisSentinelOptions;
  private closed = false;

  constructor(
    @Inject(REDIS_SENTINEL_RESOLVED_OPTIONS) options: ResolvedRedisSentinelOptions,
    // Explicit tokens: DI keeps working in builds without decorator metadata (esbuild/tsx).
    @Inject(REDIS_SENTINEL_EVENTS) readonly events: RedisSentinelEvents,
    /** `connectionName` of this module instance; `'default'` when it has none. */
    @Inject(REDIS_CONNECTION_NAME) readonly connectionName: string,
  ) {
    // A named instance says which one it is in every log entry (both may have a client "default").
    this.logger = new Logger(
      connectionName === DEFAULT_REDIS_CONNECTION ? 'RedisSentinel' : `RedisSentinel:${connectionName}`,
    );
    this.#options = options;
    this.#errors = new RateLimitedLogger(this.logger, options.errorLogIntervalMs);
    if (options.mode === 'sentinel') {
      this.#watcher = new FailoverWatcher(options, events, this.logger, this.#errors);
      this.#sentinelQueries = new SentinelQueryPool(options);
    }
    for (const def of options.clients) this.#clients.set(def.name, this.createClient(def));
  }

  private createClient(definition: ResolvedClientDefinition): ManagedRedisClient {
    return new ManagedRedisClient(
      definition,
      this.#options,
      this.#watcher,
      this.events,
      this.logger,
      this.#errors,
      (parent, override) => this.duplicate(parent, override),
      this.#durableWrites,
    );
  }

  /** `redis.duplicate(override)` of a module client: a managed copy, tracked until it ends. */
  private duplicate(parent: ManagedRedisClient, override: Partial<RedisOptions>): Redis {
    if (this.closed) {
      throw new Error(`Redis client "${parent.name}" cannot be duplicated: the module has shut down`);
    }
    const copy = this.createClient(
      duplicateDefinition(parent.definition, ++this.#duplicatesMade, override, this.#options),
    );
    this.#duplicates.add(copy);
    copy.redis.on('end', () => this.#duplicates.delete(copy));
    copy.redis.on('connect', () => this.#duplicates.add(copy));
    if (override.lazyConnect === false) copy.redis.connect().catch(() => undefined);
    return copy.redis;
  }

  async onModuleInit(): Promise<void> {
    const timeout = this.#options.startupTimeoutMs;
    const started = Date.now();
    const watcher = this.#watcher;
    const watching = watcher?.start();
    try {
      await waitForClients([...this.#clients.values()].map((c) => c.connect(timeout)));
    } catch (err) {
      // The app will not start: close everything so the process can exit.
      await this.onApplicationShutdown();
      throw err;
    }
    // Waiting for the watcher means a failover right after boot is not missed; it never fails startup.
    const left = timeout - (Date.now() - started);
    if (!watcher || !watching || left <= 0) return;
    await withDeadline(watching, left, 'watcher').catch(() => undefined);
    // Durable writes are refused until every Sentinel is heard: give the others a moment so the
    // first one after boot is not refused, without letting a frozen Sentinel hold the boot.
    const rest = Math.min(timeout - (Date.now() - started), BOOT_ALL_SENTINELS_GRACE_MS);
    if (rest > 0) await watcher.whenWatching(rest);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const deadline = this.#options.shutdownTimeoutMs;
    await Promise.all([
      ...[...this.#clients.values(), ...this.#duplicates].map((c) => c.close(deadline)),
      this.#watcher?.stop(deadline),
      this.#sentinelQueries?.close(deadline),
    ]);
  }

  /** The ioredis client declared under `name`. Throws `RedisClientNotFoundError` for an unknown name. */
  get(name: string = DEFAULT_REDIS_CLIENT): Redis {
    return this.managed(name).redis;
  }

  has(name: string): boolean {
    return this.#clients.has(name);
  }

  names(): string[] {
    return [...this.#clients.keys()];
  }

  roleOf(name: string = DEFAULT_REDIS_CLIENT): RedisClientRole {
    return this.managed(name).role;
  }

  /** Master address as last announced by Sentinel or verified by a master client (Sentinel mode). */
  currentMasterAddress(): { host: string; port: number } | undefined {
    return this.#watcher?.currentMaster ?? this.#options.standalone;
  }

  stats(): RedisSentinelStats {
    return {
      mode: this.#options.mode,
      masterName: this.#options.mode === 'sentinel' ? this.#options.masterName : undefined,
      currentMaster: formatAddress(this.currentMasterAddress()),
      failoversSeen: this.#watcher?.failoversSeen ?? 0,
      sentinels: this.#options.mode === 'sentinel' ? this.#options.sentinels.length : 0,
      sentinelsHeard: this.#options.failoverWatcher ? this.#watcher?.sentinelsHeard : undefined,
      durableWrites: { ...this.#durableWrites },
      clients: [...this.#clients.values()].map((c) => c.stats()),
      duplicates: [...this.#duplicates].map((c) => c.stats()),
    };
  }

  /** What `JSON.stringify` shows: the counters, never an option (they hold the passwords). */
  toJSON(): RedisSentinelStats {
    return this.stats();
  }

  /** What `util.inspect` / `console.log` show: the counters, as `toJSON()`. */
  [inspect.custom](): string {
    return `RedisClientsService ${inspect(this.stats(), { depth: 4 })}`;
  }

  /** @internal The persistent Sentinel query connections of the health indicator (Sentinel mode). */
  sentinelQueries(): SentinelQueryPool | undefined {
    return this.#sentinelQueries;
  }

  /** @internal */
  managed(name: string = DEFAULT_REDIS_CLIENT): ManagedRedisClient {
    const client = this.#clients.get(name);
    if (!client) throw new RedisClientNotFoundError(name, this.names());
    return client;
  }
}
