import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Counter, Gauge, Histogram, register } from 'prom-client';
import { slotMasters } from './cluster-internals.js';
import type { RedisClusterClientsService } from './redis-cluster-clients.service.js';
import type { RedisClusterClientStats } from './managed-redis-cluster.js';
import type { RedisClusterEventMap } from './redis-cluster.events.js';
import {
  REDIS_CLUSTER_METRICS_OPTIONS,
  type RedisClusterMetricsOptions,
} from './redis-cluster-metrics.module-definition.js';
import { getRedisClusterClientsServiceToken } from './redis-cluster.tokens.js';
import { DEFAULT_REDIS_CLIENT } from './redis-sentinel.constants.js';
import {
  commandDurationMetric,
  RegisteredMetrics,
  sharedRedisMetrics,
  timeCommands,
} from './shared-redis-metrics.js';

type SlotOwnerChange = RedisClusterEventMap['slot-owner-change'][0];

/**
 * Ready for commands: status `ready` and a connection to at least one master. ioredis keeps the
 * status `ready` when every node died, as long as its pool holds a connection it never opened (to
 * a replica, with reads on masters): then no master is left in the pool.
 */
function isReady(client: RedisClusterClientStats): boolean {
  return client.status === 'ready' && client.masters > 0;
}

/**
 * A Cluster module's Prometheus metrics. Counters and gauges are read at scrape time from
 * `RedisClusterClientsService.stats()` and from the slot map of the reference client (`default`,
 * else the first declared one); the failover duration comes from that client's
 * `slot-owner-change` events. Label `client` is a declared client name; label `address` is a
 * master of the slot map (one series per shard). Registered at module init, removed at module
 * destroy.
 */
@Injectable()
export class RedisClusterMetrics implements OnModuleInit, OnModuleDestroy {
  readonly #moduleRef: ModuleRef;
  readonly #options: RedisClusterMetricsOptions;
  readonly #metrics: RegisteredMetrics;

  constructor(
    // Explicit tokens: DI keeps working in builds without decorator metadata (esbuild/tsx).
    @Inject(ModuleRef) moduleRef: ModuleRef,
    @Inject(REDIS_CLUSTER_METRICS_OPTIONS) options: RedisClusterMetricsOptions,
  ) {
    this.#moduleRef = moduleRef;
    this.#options = options;
    this.#metrics = new RegisteredMetrics(options.registry ?? register);
  }

  onModuleInit(): void {
    // Looked up across the app: the Cluster module need not be global.
    const service = this.#moduleRef.get<RedisClusterClientsService>(
      getRedisClusterClientsServiceToken(this.#options.connectionName),
      { strict: false },
    );
    this.#metrics.claim('RedisClusterMetricsModule');
    const names = service.names();
    const reference = names.includes(DEFAULT_REDIS_CLIENT) ? DEFAULT_REDIS_CLIENT : names[0]!;
    const registers = [this.#metrics.registry];
    const mostSeen = (count: (c: RedisClusterClientStats) => number): number =>
      Math.max(0, ...service.stats().clients.map(count));
    /** The reference client's slot map (slot → master); empty while the client is not ready (it may be stale). */
    const owners = (): Array<string | undefined> => {
      const client = service.stats().clients.find((c) => c.name === reference);
      return client && isReady(client) ? slotMasters(service.get(reference)) : [];
    };
    const metrics: Array<Counter | Gauge | Histogram> = [
      ...sharedRedisMetrics(
        registers,
        {
          // Every client sees each promotion: count it once, as the client that saw the most.
          failovers: () => mostSeen((c) => c.promotionsSeen),
          clients: () => service.stats().clients.map((c) => ({ ...c, ready: isReady(c) })),
          durableWrites: () => service.stats().durableWrites,
        },
        'Promotions seen since start in the slot map (a node that served no slot took over every slot of a master: a failover, manual or not), as the client that saw the most.',
      ),
      new Counter({
        name: 'bastion_redis_cluster_slot_owner_changes_total',
        help: 'Slot owner changes seen since start (promotions and reshardings; one per source and target master per slot map refresh), as the client that saw the most.',
        registers,
        collect() {
          this.reset();
          this.inc(mostSeen((c) => c.failoversSeen));
        },
      }),
      new Gauge({
        name: 'bastion_redis_master_info',
        help: 'Always 1, one series per master that serves slots in the slot map of the reference client (default, else the first): label address.',
        labelNames: ['address'],
        registers,
        collect() {
          this.reset();
          for (const address of new Set(owners())) if (address !== undefined) this.set({ address }, 1);
        },
      }),
      new Gauge({
        name: 'bastion_redis_cluster_slots_covered',
        help: 'Hash slots (of 16384) that have a master in the slot map of the reference client (default, else the first).',
        registers,
        collect() {
          this.set(owners().filter((address) => address !== undefined).length);
        },
      }),
    ];
    const last = new Gauge({
      name: 'bastion_redis_cluster_last_failover_seconds',
      help: "Last failover: seconds from the reference client's first sign of a failing node (node error, lost or timed-out command, CLUSTERDOWN) to its slot map naming the new master; 0 before the first.",
      registers,
    });
    const durations = new Histogram({
      name: 'bastion_redis_cluster_failover_seconds',
      help: "Seconds from the reference client's first sign of a failing node (node error, lost or timed-out command, CLUSTERDOWN) to its slot map naming the new master: cluster-node-timeout, the election and the client's refresh.",
      buckets: [0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60],
      registers,
    });
    metrics.push(last, durations);
    const onChange = ({ client, promotion, failingForMs }: SlotOwnerChange): void => {
      if (client !== reference || !promotion || failingForMs === undefined) return;
      last.set(failingForMs / 1000);
      durations.observe(failingForMs / 1000);
    };
    service.events.on('slot-owner-change', onChange);
    const cleanups = [(): void => void service.events.off('slot-owner-change', onChange)];
    if (this.#options.commandDurations === true) {
      const commands = commandDurationMetric(registers);
      metrics.push(commands);
      for (const name of names)
        cleanups.push(timeCommands(service.get(name), commands.labels({ client: name })));
    }
    this.#metrics.add(metrics, ...cleanups);
  }

  onModuleDestroy(): void {
    this.#metrics.release();
  }
}
