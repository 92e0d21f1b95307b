import { performance } from 'node:perf_hooks';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Gauge, Histogram, register, type Counter } from 'prom-client';
import { formatAddress, sameAddress, type RedisAddress } from './redis-address.js';
import type { RedisClientsService, RedisSentinelStats } from './redis-clients.service.js';
import { DEFAULT_REDIS_CLIENT } from './redis-sentinel.constants.js';
import type { RedisSentinelEventMap } from './redis-sentinel.events.js';
import {
  REDIS_SENTINEL_METRICS_OPTIONS,
  type RedisSentinelMetricsOptions,
} from './redis-sentinel-metrics.module-definition.js';
import { getRedisClientsServiceToken } from './redis-sentinel.tokens.js';
import {
  commandDurationMetric,
  RegisteredMetrics,
  sharedRedisMetrics,
  timeCommands,
} from './shared-redis-metrics.js';

type Ready = RedisSentinelEventMap['ready'][0];
type SwitchMaster = RedisSentinelEventMap['switch-master'][0];

/**
 * The Redis module's Prometheus metrics. Counters and gauges are read from
 * `RedisClientsService.stats()` when scraped; the failover duration comes from two events
 * (`switch-master`, then `ready` of the timed client), so nothing runs between scrapes but those
 * two listeners. Label `client` is a declared client name; the one address is the current
 * master's (`master_info`). Registered at module init, removed at module destroy.
 */
@Injectable()
export class RedisSentinelMetrics implements OnModuleInit, OnModuleDestroy {
  readonly #moduleRef: ModuleRef;
  readonly #options: RedisSentinelMetricsOptions;
  readonly #metrics: RegisteredMetrics;

  constructor(
    // Explicit tokens: DI keeps working in builds without decorator metadata (esbuild/tsx).
    @Inject(ModuleRef) moduleRef: ModuleRef,
    @Inject(REDIS_SENTINEL_METRICS_OPTIONS) options: RedisSentinelMetricsOptions,
  ) {
    this.#moduleRef = moduleRef;
    this.#options = options;
    this.#metrics = new RegisteredMetrics(options.registry ?? register);
  }

  onModuleInit(): void {
    // Looked up across the app: the Redis module need not be global, and a named instance is
    // found by its own token.
    const service = this.#moduleRef.get<RedisClientsService>(
      getRedisClientsServiceToken(this.#options.connectionName),
      { strict: false },
    );
    this.#metrics.claim('RedisSentinelMetricsModule');
    const stats = (): RedisSentinelStats => service.stats();
    const registers = [this.#metrics.registry];
    const sentinelMode = stats().mode === 'sentinel';
    const metrics: Array<Counter | Gauge | Histogram> = [
      ...sharedRedisMetrics(
        registers,
        {
          failovers: () => stats().failoversSeen,
          clients: () => stats().clients.map((c) => ({ ...c, ready: c.status === 'ready' })),
          durableWrites: () => stats().durableWrites,
        },
        '+switch-master announcements seen since start (each switch once, whichever Sentinels announce it).',
      ),
      new Gauge({
        name: 'bastion_redis_master_info',
        help: 'Always 1; label address is the master as last announced by Sentinel or verified by a master client (the configured node in standalone mode).',
        labelNames: ['address'],
        registers,
        collect() {
          this.reset();
          const address = stats().currentMaster;
          if (address !== undefined) this.set({ address }, 1);
        },
      }),
    ];
    const cleanups: Array<() => void> = [];
    if (sentinelMode) {
      metrics.push(
        new Gauge({
          name: 'bastion_redis_sentinels',
          help: 'Sentinels in the options.',
          registers,
          collect() {
            this.set(stats().sentinels);
          },
        }),
      );
      if (stats().sentinelsHeard !== undefined) {
        metrics.push(
          new Gauge({
            name: 'bastion_redis_sentinels_reachable',
            help: 'Sentinels the failover watcher hears now (subscribed and answering its PINGs). Below bastion_redis_sentinels, a Sentinel is down or unheard; while one that is not known to be down (connection refused) is unheard, durable writes are refused.',
            registers,
            collect() {
              this.set(stats().sentinelsHeard ?? 0);
            },
          }),
        );
      }
      const last = new Gauge({
        name: 'bastion_redis_last_failover_seconds',
        help: 'Last failover: seconds from +switch-master to the timed client (default, else the first master client) ready on the new master; 0 before the first.',
        registers,
      });
      const durations = new Histogram({
        name: 'bastion_redis_failover_seconds',
        help: 'Seconds from +switch-master to the timed client (default, else the first master client) ready on the new master.',
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      });
      metrics.push(last, durations);
      cleanups.push(
        timeFailovers(service, (seconds) => {
          last.set(seconds);
          durations.observe(seconds);
        }),
      );
    }
    if (this.#options.commandDurations === true) {
      const durations = commandDurationMetric(registers);
      metrics.push(durations);
      for (const name of service.names()) {
        cleanups.push(timeCommands(service.get(name), durations.labels({ client: name })));
      }
    }
    this.#metrics.add(metrics, ...cleanups);
  }

  onModuleDestroy(): void {
    this.#metrics.release();
  }
}

/**
 * Calls `record(seconds)` when the timed client is ready on the master that the last
 * `+switch-master` named. Returns the function that removes the two listeners.
 */
function timeFailovers(service: RedisClientsService, record: (seconds: number) => void): () => void {
  const names = service.names();
  const timed = names.includes(DEFAULT_REDIS_CLIENT)
    ? DEFAULT_REDIS_CLIENT
    : names.find((name) => service.roleOf(name) === 'master');
  if (timed === undefined) return () => undefined;
  let pending: { to: RedisAddress; at: number } | undefined;
  const onSwitch = ({ to }: SwitchMaster): void => {
    const client = service.stats().clients.find((c) => c.name === timed);
    // Already there (it followed the master before the announcement reached us): no wait at all.
    if (client?.status === 'ready' && client.address === formatAddress(to)) {
      pending = undefined;
      record(0);
    } else {
      pending = { to, at: performance.now() };
    }
  };
  const onReady = ({ client, serverRole, address }: Ready): void => {
    if (!pending || client !== timed || serverRole !== 'master' || !sameAddress(address, pending.to)) return;
    record((performance.now() - pending.at) / 1000);
    pending = undefined;
  };
  service.events.on('switch-master', onSwitch);
  service.events.on('ready', onReady);
  return () => {
    service.events.off('switch-master', onSwitch);
    service.events.off('ready', onReady);
  };
}
