import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { withDeadline } from './timing.js';
import { connectionEpoch } from './ioredis-internals.js';
import { formatAddress, sameAddress, type RedisAddress } from './redis-address.js';
import type { RedisClientsService } from './redis-clients.service.js';
import { REDIS_CLIENTS_SERVICE, REDIS_SENTINEL_RESOLVED_OPTIONS } from './redis-sentinel.constants.js';
import type { ResolvedRedisSentinelOptions } from './redis-sentinel-options.resolver.js';
import type { ManagedRedisClient } from './managed-redis-client.js';
import { readMasterAddress } from './sentinel-query.js';
import type { SentinelQueryPool } from './sentinel-query-pool.js';
import { SharedHealthChecks } from './shared-health-checks.js';

/** Options of `RedisSentinelHealthIndicator.isHealthy()`. */
export interface RedisSentinelHealthOptions {
  /** Client to check. Default `'default'`, the client `@InjectRedis()` gives. */
  readonly client?: string;
  /**
   * The whole check answers within this time, whatever the servers do. Default 500: under the
   * 1 s default timeout of a Kubernetes probe, with room for the other indicators.
   */
  readonly timeoutMs?: number;
  /** Also run `SENTINEL CKQUORUM`; no quorum → degraded. Default false (one more round trip). */
  readonly checkQuorum?: boolean;
  /**
   * Concurrent calls with the same `client`, `timeoutMs` and `checkQuorum` always share the check
   * in flight. Its answer is also reused by later calls for this many ms after the check started,
   * unless the client reconnected, moved to another node, or a failover started or was announced
   * since (then a new check runs at once). Default 250: a flood of probes (load balancers, many
   * pods' sidecars) costs at most four checks a second, while a Kubernetes probe (every 10 s by
   * default, at least every second) never gets a reused answer. What a reused answer can miss is a
   * fault that changes nothing on the client, e.g. a frozen master: it is reported `down` within
   * `freshnessMs` + `timeoutMs`. 0 = never reuse an answer (still shared while in flight).
   */
  readonly freshnessMs?: number;
}

/** @deprecated Use `RedisSentinelHealthOptions` (the same type). */
export type RedisHealthCheckOptions = RedisSentinelHealthOptions;

/** Default of `RedisSentinelHealthOptions.timeoutMs`, as for the other libs' indicators. */
const DEFAULT_HEALTH_TIMEOUT_MS = 500;
/** Default of `RedisSentinelHealthOptions.freshnessMs` (see there). */
const DEFAULT_HEALTH_FRESHNESS_MS = 250;

type Verdict = { status: 'up' | 'degraded' | 'down'; data: Record<string, unknown> };

/**
 * Terminus 12 indicator for one client: ready, PING, ROLE, and the connected address compared
 * with the master that the Sentinels name. `down` when commands would fail or go to the wrong
 * node; `degraded` when it works but cannot be fully verified or is impaired. Never includes
 * a password.
 *
 * ```ts
 * @Get('ready') @HealthCheck()
 * ready() { return this.#health.check([() => this.redis.isHealthy('redis')]); }
 * ```
 */
@Injectable()
export class RedisSentinelHealthIndicator {
  // `#private`: the options hold the passwords (for the Sentinel questions); `util.inspect` never shows these.
  readonly #health: HealthIndicatorService;
  readonly #clients: RedisClientsService;
  readonly #options: ResolvedRedisSentinelOptions;
  /** Single flight and short reuse of the checks (see `RedisSentinelHealthOptions.freshnessMs`). */
  readonly #checks = new SharedHealthChecks<Verdict>();

  constructor(
    // Explicit tokens: DI keeps working in builds without decorator metadata (esbuild/tsx).
    @Inject(HealthIndicatorService) health: HealthIndicatorService,
    // The service and options of this instance (module-private tokens), never another instance's.
    @Inject(REDIS_CLIENTS_SERVICE) clients: RedisClientsService,
    @Inject(REDIS_SENTINEL_RESOLVED_OPTIONS) options: ResolvedRedisSentinelOptions,
  ) {
    this.#health = health;
    this.#clients = clients;
    this.#options = options;
  }

  async isHealthy<const Key extends string = 'redis'>(
    key: Key = 'redis' as Key,
    options: RedisSentinelHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const session = this.#health.check(key);
    const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
    let client: ManagedRedisClient;
    try {
      client = this.#clients.managed(options.client);
    } catch (err) {
      return session.down({ message: (err as Error).message });
    }
    if (client.redis.status !== 'ready') {
      return session.down({ ...this.base(client), message: `not connected (status ${client.redis.status})` });
    }
    const checkQuorum = options.checkQuorum === true;
    // What the answer depends on besides the servers: a reconnect, another node, a failover
    // started or announced (the watcher's generation) makes a new check, never a reused answer.
    const fingerprint = [
      formatAddress(client.address),
      connectionEpoch(client.redis),
      client.servingFromMaster,
      client.failover.generation,
    ].join(' ');
    const verdict = await this.#checks.run(
      `${client.name} ${timeoutMs} ${checkQuorum}`,
      fingerprint,
      options.freshnessMs ?? DEFAULT_HEALTH_FRESHNESS_MS,
      () => this.check(client, checkQuorum, timeoutMs),
    );
    if (verdict.status === 'up') return session.up(verdict.data);
    if (verdict.status === 'degraded') return session.degraded(verdict.data);
    return session.down(verdict.data);
  }

  private base(client: ManagedRedisClient): Record<string, unknown> {
    // Standalone clients dial no Sentinel-resolved address: report the configured one.
    const address = formatAddress(client.address ?? this.#options.standalone);
    return { client: client.name, role: client.role, address };
  }

  /** One check, within `timeoutMs` whatever the servers do; never rejects. */
  private async check(client: ManagedRedisClient, checkQuorum: boolean, timeoutMs: number): Promise<Verdict> {
    const started = Date.now();
    const base = this.base(client);
    try {
      const verdict = await withDeadline(
        this.probe(client, checkQuorum, timeoutMs),
        timeoutMs,
        `timeout of ${timeoutMs}ms exceeded`,
      );
      return {
        status: verdict.status,
        data: { ...base, ...verdict.data, responseTimeMs: Date.now() - started },
      };
    } catch (err) {
      return {
        status: 'down',
        data: { ...base, message: (err as Error).message, responseTimeMs: Date.now() - started },
      };
    }
  }

  private async probe(client: ManagedRedisClient, checkQuorum: boolean, timeoutMs: number): Promise<Verdict> {
    const sentinelMode = this.#options.mode === 'sentinel';
    // Sentinel questions get part of the budget, so a frozen Sentinel yields `degraded`, not a timeout.
    const sentinelBudget = Math.max(50, Math.floor(timeoutMs * 0.6));
    const [node, sentinelMaster, quorum] = await Promise.all([
      this.probeNode(client),
      sentinelMode ? this.askAnySentinel(sentinelBudget) : Promise.resolve(undefined),
      sentinelMode && checkQuorum ? this.checkQuorum(sentinelBudget) : Promise.resolve(undefined),
    ]);
    const data: Record<string, unknown> = {
      ...node.details,
      ...(sentinelMode ? { masterAddress: formatAddress(sentinelMaster) } : {}),
      ...(quorum ? { quorum: quorum.ok ? 'ok' : quorum.message } : {}),
    };
    if (node.error) return { status: 'down', data: { ...data, message: node.error } };

    const wantsMaster = client.role !== 'replica';
    if (wantsMaster && node.serverRole && node.serverRole !== 'master') {
      return {
        status: 'down',
        data: { ...data, message: `connected node is a ${node.serverRole}, not the master` },
      };
    }
    if (sentinelMode && !sentinelMaster) {
      return {
        status: 'degraded',
        data: { ...data, message: 'no Sentinel answered; master address not verified' },
      };
    }
    if (wantsMaster && sentinelMaster && !sameAddress(client.address, sentinelMaster)) {
      return {
        status: 'down',
        data: { ...data, message: 'connected to a node that the Sentinels no longer name as master' },
      };
    }
    if (!wantsMaster && client.servingFromMaster) {
      return {
        status: 'degraded',
        data: { ...data, message: 'no healthy replica; reading from the master' },
      };
    }
    if (quorum && !quorum.ok)
      return { status: 'degraded', data: { ...data, message: 'Sentinel quorum not reachable' } };
    return { status: 'up', data };
  }

  private async probeNode(
    client: ManagedRedisClient,
  ): Promise<{ serverRole?: string; details: Record<string, unknown>; error?: string }> {
    try {
      // ROLE is not allowed on a RESP2 subscriber connection; PING is.
      if (client.role === 'subscriber') {
        await client.redis.ping();
        return { details: {} };
      }
      const [, role] = await Promise.all([
        client.redis.ping(),
        client.redis.call('ROLE') as Promise<unknown[]>,
      ]);
      return { serverRole: String(role[0]), details: describeRole(role) };
    } catch (err) {
      return { details: {}, error: (err as Error).message };
    }
  }

  private async askAnySentinel(budgetMs: number): Promise<RedisAddress | undefined> {
    const { sentinels } = this.#options;
    try {
      return await Promise.any(
        sentinels.map((s) =>
          this.sentinelQueries().query(s, budgetMs, (c) => readMasterAddress(c, s, this.#options)),
        ),
      );
    } catch {
      return undefined;
    }
  }

  private async checkQuorum(budgetMs: number): Promise<{ ok: boolean; message?: string }> {
    const { sentinels, masterName } = this.#options;
    try {
      await Promise.any(
        sentinels.map((s) =>
          this.sentinelQueries().query(s, budgetMs, (c) => c.call('SENTINEL', 'CKQUORUM', masterName)),
        ),
      );
      return { ok: true };
    } catch (err) {
      const first = err instanceof AggregateError ? (err.errors[0] as Error) : (err as Error);
      return { ok: false, message: first?.message ?? 'no Sentinel answered' };
    }
  }

  /** The module's persistent Sentinel connections (Sentinel mode only). */
  private sentinelQueries(): SentinelQueryPool {
    return this.#clients.sentinelQueries()!;
  }
}

/** Health details from a ROLE reply: replica count and lag for a master, link state for a replica. */
function describeRole(role: unknown[]): Record<string, unknown> {
  const kind = String(role[0]);
  if (kind === 'master') {
    const offset = Number(role[1]);
    const replicas = Array.isArray(role[2]) ? (role[2] as unknown[][]) : [];
    const lags = replicas.map((r) => offset - Number(r[2]));
    return {
      serverRole: kind,
      connectedReplicas: replicas.length,
      maxReplicaLagBytes: lags.length > 0 ? Math.max(...lags) : undefined,
    };
  }
  if (kind === 'slave') {
    return {
      serverRole: kind,
      replicating: `${String(role[1])}:${String(role[2])}`,
      linkState: String(role[3]),
    };
  }
  return { serverRole: kind };
}
