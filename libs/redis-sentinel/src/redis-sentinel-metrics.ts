import { performance } from 'node:perf_hooks';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Histogram, register, type Registry } from 'prom-client';
import { formatAddress, sameAddress, type RedisAddress } from './redis-address.js';
import type { RedisClientsService, RedisSentinelStats } from './redis-clients.service.js';
import { DEFAULT_REDIS_CLIENT } from './redis-sentinel.constants.js';
import type { RedisSentinelEventMap } from './redis-sentinel.events.js';
import {
  REDIS_SENTINEL_METRICS_OPTIONS,
  type RedisSentinelMetricsOptions,
} from './redis-sentinel-metrics.module-definition.js';
import { getRedisClientsServiceToken } from './redis-sentinel.tokens.js';

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
  readonly #registry: Registry;
  #names: string[] = [];
  #unsubscribe: (() => void) | undefined;
  #unwrap: Array<() => void> = [];

  constructor(
    // Explicit tokens: DI keeps working in builds without decorator metadata (esbuild/tsx).
    @Inject(ModuleRef) moduleRef: ModuleRef,
    @Inject(REDIS_SENTINEL_METRICS_OPTIONS) options: RedisSentinelMetricsOptions,
  ) {
    this.#moduleRef = moduleRef;
    this.#options = options;
    this.#registry = options.registry ?? register;
  }

  onModuleInit(): void {
    // Looked up across the app: the Redis module need not be global, and a named instance is
    // found by its own token.
    const service = this.#moduleRef.get<RedisClientsService>(
      getRedisClientsServiceToken(this.#options.connectionName),
      { strict: false },
    );
    const stats = (): RedisSentinelStats => service.stats();
    const registers = [this.#registry];
    const sentinelMode = stats().mode === 'sentinel';
    const metrics: Array<Counter | Gauge | Histogram> = [
      new Counter({
        name: 'bastion_redis_failovers_total',
        help: '+switch-master announcements seen since start (each switch once, whichever Sentinels announce it).',
        registers,
        collect() {
          this.reset();
          this.inc(stats().failoversSeen);
        },
      }),
      new Counter({
        name: 'bastion_redis_reconnects_total',
        help: 'Reconnect attempts, per declared client.',
        labelNames: ['client'],
        registers,
        collect() {
          this.reset();
          for (const c of stats().clients) this.inc({ client: c.name }, c.reconnects);
        },
      }),
      new Gauge({
        name: 'bastion_redis_client_ready',
        help: '1 when the client is connected and ready for commands, 0 otherwise, per declared client.',
        labelNames: ['client'],
        registers,
        collect() {
          this.reset();
          for (const c of stats().clients) this.set({ client: c.name }, c.status === 'ready' ? 1 : 0);
        },
      }),
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
      new Counter({
        name: 'bastion_redis_durable_writes_total',
        help: 'durableWrite/durableCall/durableEnqueue outcomes: confirmed (replicas acknowledged), unconfirmed (DurableWriteError after writing), refused (before writing: failover in progress or a Sentinel not heard).',
        labelNames: ['outcome'],
        registers,
        collect() {
          this.reset();
          const { confirmed, unconfirmed, refused } = stats().durableWrites;
          this.inc({ outcome: 'confirmed' }, confirmed);
          this.inc({ outcome: 'unconfirmed' }, unconfirmed);
          this.inc({ outcome: 'refused' }, refused);
        },
      }),
    ];
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
      this.#unsubscribe = timeFailovers(service, (seconds) => {
        last.set(seconds);
        durations.observe(seconds);
      });
    }
    if (this.#options.commandDurations === true) {
      const durations = new Histogram({
        name: 'bastion_redis_command_duration_seconds',
        help: 'Seconds from sending a command to its reply or error, per declared client (offline-queue time included; a blocking command counts its wait).',
        labelNames: ['client'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers,
      });
      metrics.push(durations);
      this.#unwrap = service
        .names()
        .map((name) => timeCommands(service.get(name), durations.labels({ client: name })));
    }
    this.#names = metrics.map((m) => (m as unknown as { name: string }).name);
  }

  onModuleDestroy(): void {
    for (const unwrap of this.#unwrap) unwrap();
    this.#unwrap = [];
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const name of this.#names) this.#registry.removeSingleMetric(name);
    this.#names = [];
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

/**
 * Wraps `redis.sendCommand` to observe each command's duration (pipelines and MULTI go through it
 * too). Returns the function that puts the original back, unless someone wrapped it since.
 */
function timeCommands(redis: Redis, observe: { observe(seconds: number): void }): () => void {
  const own = Object.hasOwn(redis, 'sendCommand') ? redis.sendCommand : undefined;
  const original = redis.sendCommand;
  const wrapper: Redis['sendCommand'] = function (this: Redis, ...args) {
    const started = performance.now();
    const done = (): void => observe.observe((performance.now() - started) / 1000);
    const reply = original.apply(this, args);
    args[0].promise.then(done, done);
    return reply;
  };
  redis.sendCommand = wrapper;
  return () => {
    if (redis.sendCommand !== wrapper) return;
    if (own) redis.sendCommand = own;
    else delete (redis as Partial<Pick<Redis, 'sendCommand'>>).sendCommand;
  };
}
