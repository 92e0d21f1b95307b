import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { slotMasters } from './cluster-internals.js';
import type { ManagedRedisCluster } from './managed-redis-cluster.js';
import type { RedisClusterClientsService } from './redis-cluster-clients.service.js';
import { REDIS_CLUSTER_CLIENTS_SERVICE } from './redis-sentinel.constants.js';
import { SharedHealthChecks } from './shared-health-checks.js';
import { withDeadline } from './timing.js';

/** Options of `RedisClusterHealthIndicator.isHealthy()`. */
export interface RedisClusterHealthOptions {
  /** Client to check. Default `'default'`, the client `@InjectRedis()` gives. */
  readonly client?: string;
  /**
   * The whole check answers within this time, whatever the nodes do. Default 500: under the 1 s
   * default timeout of a Kubernetes probe, with room for the other indicators.
   */
  readonly timeoutMs?: number;
  /**
   * Concurrent calls with the same `client` and `timeoutMs` always share the check in flight; its
   * answer is also reused for this many ms after the check started, unless the client's slot map
   * changed or it reconnected since (then a new check runs at once). Default 250, as for the
   * Sentinel indicator: a flood of probes costs at most four checks a second. 0 = never reuse.
   */
  readonly freshnessMs?: number;
}

/** Default of `RedisClusterHealthOptions.timeoutMs`, as for the Sentinel indicator. */
const DEFAULT_HEALTH_TIMEOUT_MS = 500;
/** Default of `RedisClusterHealthOptions.freshnessMs` (see there). */
const DEFAULT_HEALTH_FRESHNESS_MS = 250;
const CLUSTER_SLOTS = 16_384;

type Verdict = { status: 'up' | 'degraded' | 'down'; data: Record<string, unknown> };

/** What one shard looks like in the health details. */
interface ShardDetails {
  master: string;
  /** Replicas of the master that the master reports connected (`ROLE`). */
  replicas: string[];
  /** Contiguous slot ranges the client's slot map gives this master. */
  slotRanges: number;
}

/**
 * Terminus 12 indicator for one Cluster client. `down` when commands would fail: the client is not
 * ready, a master does not answer within the timeout, or a node reports `cluster_state` other than
 * `ok` or fewer than 16384 slots served. `degraded` when it works but one more failure would stop a
 * shard: a master without a connected replica, or a replica that does not answer. Details per
 * shard, never a password.
 *
 * ```ts
 * @Get('ready') @HealthCheck()
 * ready() { return this.#health.check([() => this.cluster.isHealthy('redis')]); }
 * ```
 */
@Injectable()
export class RedisClusterHealthIndicator {
  readonly #health: HealthIndicatorService;
  readonly #clients: RedisClusterClientsService;
  /** Single flight and short reuse of the checks (see `RedisClusterHealthOptions.freshnessMs`). */
  readonly #checks = new SharedHealthChecks<Verdict>();

  constructor(
    // Explicit tokens: DI keeps working in builds without decorator metadata (esbuild/tsx).
    @Inject(HealthIndicatorService) health: HealthIndicatorService,
    @Inject(REDIS_CLUSTER_CLIENTS_SERVICE) clients: RedisClusterClientsService,
  ) {
    this.#health = health;
    this.#clients = clients;
  }

  async isHealthy<const Key extends string = 'redis'>(
    key: Key = 'redis' as Key,
    options: RedisClusterHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const session = this.#health.check(key);
    const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
    let client: ManagedRedisCluster;
    try {
      client = this.#clients.managed(options.client);
    } catch (err) {
      return session.down({ message: (err as Error).message });
    }
    const base = { client: client.name, role: client.role, mode: 'cluster' };
    if (client.cluster.status !== 'ready') {
      return session.down({ ...base, message: `not connected (status ${client.cluster.status})` });
    }
    // A reconnect or a slot owner change makes a new check, never a reused answer.
    const stats = client.stats();
    const fingerprint = `${stats.readyCount} ${stats.failoversSeen} ${stats.nodes}`;
    const verdict = await this.#checks.run(
      `${client.name} ${timeoutMs}`,
      fingerprint,
      options.freshnessMs ?? DEFAULT_HEALTH_FRESHNESS_MS,
      () => this.check(client, timeoutMs),
    );
    const data = { ...base, ...verdict.data };
    if (verdict.status === 'up') return session.up(data);
    if (verdict.status === 'degraded') return session.degraded(data);
    return session.down(data);
  }

  /** One check, within `timeoutMs` whatever the nodes do; never rejects. */
  private async check(client: ManagedRedisCluster, timeoutMs: number): Promise<Verdict> {
    const started = Date.now();
    let verdict: Verdict;
    try {
      verdict = await withDeadline(
        this.probe(client, timeoutMs),
        timeoutMs,
        `timeout of ${timeoutMs}ms exceeded`,
      );
    } catch (err) {
      verdict = { status: 'down', data: { message: (err as Error).message } };
    }
    return { status: verdict.status, data: { ...verdict.data, responseTimeMs: Date.now() - started } };
  }

  private async probe(client: ManagedRedisCluster, timeoutMs: number): Promise<Verdict> {
    const cluster = client.cluster;
    // Each node gets a bit less than the whole budget, so a silent node is reported, not a timeout.
    const budget = Math.max(20, Math.floor(timeoutMs * 0.8));
    const masters = cluster.nodes('master');
    const replicas = cluster.nodes('slave');
    const [masterAnswers, replicaAnswers] = await Promise.all([
      Promise.all(masters.map((node) => ask(node, budget, true))),
      Promise.all(replicas.map((node) => ask(node, budget, false))),
    ]);
    const problems: string[] = [];
    const warnings: string[] = [];
    for (const answer of [...masterAnswers, ...replicaAnswers]) {
      const role = answer.master ? 'master' : 'replica';
      if (answer.error !== undefined) {
        (answer.master ? problems : warnings).push(
          `${role} ${answer.address} did not answer: ${answer.error}`,
        );
        continue;
      }
      if (answer.state !== 'ok')
        problems.push(`${role} ${answer.address} reports cluster_state:${answer.state}`);
      else if (answer.slotsOk !== CLUSTER_SLOTS) {
        problems.push(`${role} ${answer.address} reports ${answer.slotsOk} of ${CLUSTER_SLOTS} slots served`);
      }
    }
    const ranges = slotRanges(slotMasters(cluster));
    const shards: ShardDetails[] = masterAnswers.map((answer) => ({
      master: answer.address,
      replicas: answer.replicas ?? [],
      slotRanges: ranges.get(answer.address) ?? 0,
    }));
    for (const shard of shards) {
      if (
        shard.slotRanges > 0 &&
        shard.replicas.length === 0 &&
        !problems.some((p) => p.includes(shard.master))
      ) {
        warnings.push(`master ${shard.master} has no connected replica`);
      }
    }
    const unserved = [...ranges.keys()].filter((owner) => owner === '').length;
    if (unserved > 0) problems.push('some slots have no master in the client slot map');
    // Replicas as their masters report them: CLUSTER SLOTS (the client's map) lists a replica only
    // once its replication offset was gossiped, so a fresh cluster's map may show none.
    const data = {
      shards,
      masters: masters.length,
      replicas: shards.reduce((sum, shard) => sum + shard.replicas.length, 0),
    };
    if (problems.length > 0) return { status: 'down', data: { ...data, message: problems.join('; ') } };
    if (warnings.length > 0) return { status: 'degraded', data: { ...data, message: warnings.join('; ') } };
    return { status: 'up', data };
  }
}

interface NodeAnswer {
  address: string;
  master: boolean;
  state?: string;
  slotsOk?: number;
  replicas?: string[];
  error?: string;
}

/** `CLUSTER INFO` (and `ROLE` on a master) on the client's own connection to `node`, within `budgetMs`. */
async function ask(node: Redis, budgetMs: number, master: boolean): Promise<NodeAnswer> {
  const address = `${node.options.host}:${node.options.port}`;
  try {
    const [info, role] = await withDeadline(
      Promise.all([
        node.call('CLUSTER', 'INFO') as Promise<string>,
        master ? (node.call('ROLE') as Promise<unknown[]>) : Promise.resolve(undefined),
      ]),
      budgetMs,
      `no answer within ${budgetMs} ms`,
    );
    const fields = new Map<string, string>();
    for (const line of String(info).split('\n')) {
      const at = line.indexOf(':');
      if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1).trim());
    }
    const replicas =
      role && Array.isArray(role[2])
        ? (role[2] as unknown[][]).map((r) => `${String(r[0])}:${String(r[1])}`)
        : undefined;
    return {
      address,
      master,
      state: fields.get('cluster_state'),
      slotsOk: Number(fields.get('cluster_slots_ok')),
      replicas,
    };
  } catch (err) {
    return { address, master, error: (err as Error).message };
  }
}

/** Master → number of contiguous slot ranges in the slot map (`''` for slots without a master). */
function slotRanges(owners: ReadonlyArray<string | undefined>): Map<string, number> {
  const ranges = new Map<string, number>();
  let previous: string | undefined | null = null;
  for (const owner of owners) {
    if (owner !== previous) {
      const key = owner ?? '';
      ranges.set(key, (ranges.get(key) ?? 0) + 1);
      previous = owner;
    }
  }
  return ranges;
}
