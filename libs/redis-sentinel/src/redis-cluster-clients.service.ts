import { inspect } from 'node:util';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Cluster, ClusterOptions } from 'ioredis';
import { clusterDuplicateDefinition } from './duplicate-definition.js';
import { ManagedRedisCluster, type RedisClusterClientStats } from './managed-redis-cluster.js';
import type { DurableWriteCounts } from './managed-redis-client.js';
import { RateLimitedLogger } from './rate-limited-logger.js';
import type { RedisClusterClientRole } from './redis-cluster-options.interface.js';
import type {
  ResolvedClusterClientDefinition,
  ResolvedRedisClusterOptions,
} from './redis-cluster-options.resolver.js';
import { RedisClusterEvents } from './redis-cluster.events.js';
import {
  DEFAULT_REDIS_CLIENT,
  DEFAULT_REDIS_CONNECTION,
  REDIS_CLUSTER_EVENTS,
  REDIS_CLUSTER_RESOLVED_OPTIONS,
  REDIS_CONNECTION_NAME,
} from './redis-sentinel.constants.js';
import { RedisClientNotFoundError } from './redis-sentinel.errors.js';
import { waitForClients } from './startup-problems.js';

/** Snapshot of a Cluster module for dashboards and debugging, shaped like `RedisSentinelStats`. Never contains a password. */
export interface RedisClusterStats {
  mode: 'cluster';
  /** Seed nodes in the options. */
  seedNodes: number;
  /** Slot owner changes seen by the module's clients (each client counts the changes it saw). */
  failoversSeen: number;
  /** Outcomes of `durableWrite` and `durableCall` on this module's clients. */
  durableWrites: DurableWriteCounts;
  clients: RedisClusterClientStats[];
  /** Open copies made by `duplicate()` (BullMQ's blocking connections, Socket.IO's subscriber). */
  duplicates: RedisClusterClientStats[];
}

/**
 * Owns every named Cluster client: creates them (no socket yet), connects them in
 * `onModuleInit`, and closes them (bounded) in `onApplicationShutdown`. `get(name)` returns the
 * ioredis `Cluster`.
 */
@Injectable()
export class RedisClusterClientsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger: Logger;
  // `#private`: the clients and options hold the password, and `util.inspect` never shows these.
  readonly #clients = new Map<string, ManagedRedisCluster>();
  /** Copies made by `cluster.duplicate()` that are open (or connecting): closed at shutdown too. */
  readonly #duplicates = new Set<ManagedRedisCluster>();
  #duplicatesMade = 0;
  readonly #errors: RateLimitedLogger;
  readonly #durableWrites: DurableWriteCounts = { confirmed: 0, unconfirmed: 0, refused: 0 };
  readonly #options: ResolvedRedisClusterOptions;
  private closed = false;

  constructor(
    @Inject(REDIS_CLUSTER_RESOLVED_OPTIONS) options: ResolvedRedisClusterOptions,
    // Explicit tokens: DI keeps working in builds without decorator metadata (esbuild/tsx).
    @Inject(REDIS_CLUSTER_EVENTS) readonly events: RedisClusterEvents,
    /** `connectionName` of this module instance; `'default'` when it has none. */
    @Inject(REDIS_CONNECTION_NAME) readonly connectionName: string,
  ) {
    this.logger = new Logger(
      connectionName === DEFAULT_REDIS_CONNECTION ? 'RedisCluster' : `RedisCluster:${connectionName}`,
    );
    this.#options = options;
    this.#errors = new RateLimitedLogger(this.logger, options.errorLogIntervalMs);
    for (const def of options.clients) this.#clients.set(def.name, this.createClient(def));
    // What one client learns of a failover, the others (the copies blocked on a frozen master
    // above all) learn at once, as Sentinel-mode clients share the failover watcher.
    events.on('slot-owner-change', ({ client, to }) => {
      const all = [...this.#clients.values(), ...this.#duplicates];
      const sibling = all.find((c) => c.name === client);
      if (!sibling) return;
      for (const c of all) if (c !== sibling) c.siblingMoved(sibling.cluster, to);
    });
  }

  private createClient(definition: ResolvedClusterClientDefinition): ManagedRedisCluster {
    return new ManagedRedisCluster(
      definition,
      this.#options,
      this.events,
      this.logger,
      this.#errors,
      (parent, startupNodes, override) => this.duplicate(parent, startupNodes, override),
      this.#durableWrites,
    );
  }

  /** `cluster.duplicate(startupNodes, override)` of a module client: a managed copy, tracked until it ends. */
  private duplicate(
    parent: ManagedRedisCluster,
    startupNodes: readonly unknown[],
    override: Partial<ClusterOptions>,
  ): Cluster {
    if (this.closed) {
      throw new Error(`Redis Cluster client "${parent.name}" cannot be duplicated: the module has shut down`);
    }
    const copy = this.createClient(
      clusterDuplicateDefinition(
        parent.definition,
        parent.cluster.options,
        ++this.#duplicatesMade,
        startupNodes,
        override,
        this.#options,
      ),
    );
    this.#duplicates.add(copy);
    copy.cluster.on('end', () => this.#duplicates.delete(copy));
    copy.cluster.on('connect', () => this.#duplicates.add(copy));
    if (override.lazyConnect === false) copy.cluster.connect().catch(() => undefined);
    return copy.cluster;
  }

  async onModuleInit(): Promise<void> {
    const timeout = this.#options.startupTimeoutMs;
    try {
      await waitForClients([...this.#clients.values()].map((c) => c.connect(timeout)));
    } catch (err) {
      // The app will not start: close everything so the process can exit.
      await this.onApplicationShutdown();
      throw err;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const deadline = this.#options.shutdownTimeoutMs;
    await Promise.all([...this.#clients.values(), ...this.#duplicates].map((c) => c.close(deadline)));
  }

  /** The ioredis `Cluster` declared under `name`. Throws `RedisClientNotFoundError` for an unknown name. */
  get(name: string = DEFAULT_REDIS_CLIENT): Cluster {
    return this.managed(name).cluster;
  }

  has(name: string): boolean {
    return this.#clients.has(name);
  }

  names(): string[] {
    return [...this.#clients.keys()];
  }

  roleOf(name: string = DEFAULT_REDIS_CLIENT): RedisClusterClientRole {
    return this.managed(name).role;
  }

  stats(): RedisClusterStats {
    const clients = [...this.#clients.values()].map((c) => c.stats());
    return {
      mode: 'cluster',
      seedNodes: this.#options.nodes.length,
      failoversSeen: clients.reduce((sum, c) => sum + c.failoversSeen, 0),
      durableWrites: { ...this.#durableWrites },
      clients,
      duplicates: [...this.#duplicates].map((c) => c.stats()),
    };
  }

  /** What `JSON.stringify` shows: the counters, never an option (they hold the password). */
  toJSON(): RedisClusterStats {
    return this.stats();
  }

  /** What `util.inspect` / `console.log` show: the counters, as `toJSON()`. */
  [inspect.custom](): string {
    return `RedisClusterClientsService ${inspect(this.stats(), { depth: 4 })}`;
  }

  /** @internal */
  managed(name: string = DEFAULT_REDIS_CLIENT): ManagedRedisCluster {
    const client = this.#clients.get(name);
    if (!client) throw new RedisClientNotFoundError(name, this.names());
    return client;
  }
}
