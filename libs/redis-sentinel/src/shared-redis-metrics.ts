import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DurableWriteCounts } from './managed-redis-client.js';

/** What the metrics of both modes (Sentinel/standalone and Cluster) read at scrape time. */
export interface RedisMetricsSource {
  failovers(): number;
  clients(): Array<{ name: string; reconnects: number; ready: boolean }>;
  durableWrites(): DurableWriteCounts;
}

/**
 * The metrics whose meaning is the same in both modes, under the same names, so that one
 * dashboard and one set of alerts serve both: failovers, reconnects and readiness per client,
 * durable-write outcomes. `failoversHelp` says what a failover is in the mode.
 */
export function sharedRedisMetrics(
  registers: Registry[],
  source: RedisMetricsSource,
  failoversHelp: string,
): Array<Counter | Gauge> {
  return [
    new Counter({
      name: 'bastion_redis_failovers_total',
      help: failoversHelp,
      registers,
      collect() {
        this.reset();
        this.inc(source.failovers());
      },
    }),
    new Counter({
      name: 'bastion_redis_reconnects_total',
      help: 'Reconnect attempts, per declared client.',
      labelNames: ['client'],
      registers,
      collect() {
        this.reset();
        for (const c of source.clients()) this.inc({ client: c.name }, c.reconnects);
      },
    }),
    new Gauge({
      name: 'bastion_redis_client_ready',
      help: '1 when the client is connected and ready for commands, 0 otherwise, per declared client.',
      labelNames: ['client'],
      registers,
      collect() {
        this.reset();
        for (const c of source.clients()) this.set({ client: c.name }, c.ready ? 1 : 0);
      },
    }),
    new Counter({
      name: 'bastion_redis_durable_writes_total',
      help: 'durableWrite/durableCall/durableEnqueue outcomes: confirmed (replicas acknowledged), unconfirmed (DurableWriteError after writing), refused (before writing: failover in progress or a Sentinel not heard).',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        const { confirmed, unconfirmed, refused } = source.durableWrites();
        this.inc({ outcome: 'confirmed' }, confirmed);
        this.inc({ outcome: 'unconfirmed' }, unconfirmed);
        this.inc({ outcome: 'refused' }, refused);
      },
    }),
  ];
}

/** `bastion_redis_command_duration_seconds` (opt-in in both modes: see `commandDurations`). */
export function commandDurationMetric(registers: Registry[]): Histogram<'client'> {
  return new Histogram({
    name: 'bastion_redis_command_duration_seconds',
    help: 'Seconds from sending a command to its reply or error, per declared client (offline-queue time included; a blocking command counts its wait).',
    labelNames: ['client'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
}

interface CommandLike {
  promise: Promise<unknown>;
}
interface SendsCommands {
  sendCommand(command: CommandLike, ...rest: never[]): unknown;
}

/**
 * Wraps `client.sendCommand` (an ioredis `Redis` or `Cluster`; pipelines and MULTI go through it
 * too) to observe each command's duration once: a command sent again (offline queue flushed, a
 * Cluster redirect or retry) passes through it again but is timed from its first send. Returns the
 * function that puts the original back, unless someone wrapped it since.
 */
export function timeCommands(client: object, observe: { observe(seconds: number): void }): () => void {
  const target = client as SendsCommands;
  const own = Object.hasOwn(target, 'sendCommand') ? target.sendCommand : undefined;
  const original = target.sendCommand;
  const seen = new WeakSet<CommandLike>();
  const wrapper: SendsCommands['sendCommand'] = function (this: SendsCommands, command, ...rest) {
    if (!seen.has(command)) {
      seen.add(command);
      const started = performance.now();
      const done = (): void => observe.observe((performance.now() - started) / 1000);
      command.promise.then(done, done);
    }
    return original.call(this, command, ...rest);
  };
  target.sendCommand = wrapper;
  return () => {
    if (target.sendCommand !== wrapper) return;
    if (own) target.sendCommand = own;
    else delete (target as Partial<SendsCommands>).sendCommand;
  };
}

/**
 * The metrics a module registered and what to undo when it stops: `release()` runs the cleanups
 * (listeners, wrapped clients) and removes the metrics from the registry, so a restarted module
 * registers them again.
 */
export class RegisteredMetrics {
  #names: string[] = [];
  #cleanups: Array<() => void> = [];

  constructor(readonly registry: Registry) {}

  /**
   * Throws when the registry already holds the series of another Redis module instance: they carry
   * no instance label, so two instances (Sentinel or Cluster) need a registry each.
   */
  claim(owner: string): void {
    if (this.registry.getSingleMetric('bastion_redis_failovers_total')) {
      throw new Error(
        `${owner}: the registry already holds the bastion_redis_* metrics of another Redis module instance ` +
          '(RedisSentinelMetricsModule or RedisClusterMetricsModule); give each instance a registry of its own',
      );
    }
  }

  add(metrics: Array<Counter | Gauge | Histogram>, ...cleanups: Array<() => void>): void {
    this.#names.push(...metrics.map((m) => (m as unknown as { name: string }).name));
    this.#cleanups.push(...cleanups);
  }

  release(): void {
    for (const cleanup of this.#cleanups) cleanup();
    this.#cleanups = [];
    for (const name of this.#names) this.registry.removeSingleMetric(name);
    this.#names = [];
  }
}
