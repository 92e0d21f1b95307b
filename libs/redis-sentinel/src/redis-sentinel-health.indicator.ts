import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { withDeadline } from './timing.js';
import { formatAddress, sameAddress, type RedisAddress } from './redis-address.js';
import type { RedisClientsService } from './redis-clients.service.js';
import { REDIS_CLIENTS_SERVICE, REDIS_SENTINEL_RESOLVED_OPTIONS } from './redis-sentinel.constants.js';
import type { ResolvedRedisSentinelOptions } from './redis-sentinel-options.resolver.js';
import type { ManagedRedisClient } from './managed-redis-client.js';
import { askMasterAddress, querySentinel } from './sentinel-query.js';

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
}

/** @deprecated Use `RedisSentinelHealthOptions` (the same type). */
export type RedisHealthCheckOptions = RedisSentinelHealthOptions;

/** Default of `RedisSentinelHealthOptions.timeoutMs`, as for the other libs' indicators. */
const DEFAULT_HEALTH_TIMEOUT_MS = 500;

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
    const started = Date.now();
    let client: ManagedRedisClient;
    try {
      client = this.#clients.managed(options.client);
    } catch (err) {
      return session.down({ message: (err as Error).message });
    }
    // Standalone clients dial no Sentinel-resolved address: report the configured one.
    const address = formatAddress(client.address ?? this.#options.standalone);
    const base = { client: client.name, role: client.role, address };
    if (client.redis.status !== 'ready') {
      return session.down({ ...base, message: `not connected (status ${client.redis.status})` });
    }
    try {
      const verdict = await withDeadline(
        this.probe(client, options, timeoutMs),
        timeoutMs,
        `timeout of ${timeoutMs}ms exceeded`,
      );
      const data = { ...base, ...verdict.data, responseTimeMs: Date.now() - started };
      if (verdict.status === 'up') return session.up(data);
      if (verdict.status === 'degraded') return session.degraded(data);
      return session.down(data);
    } catch (err) {
      return session.down({ ...base, message: (err as Error).message, responseTimeMs: Date.now() - started });
    }
  }

  private async probe(
    client: ManagedRedisClient,
    options: RedisSentinelHealthOptions,
    timeoutMs: number,
  ): Promise<Verdict> {
    const sentinelMode = this.#options.mode === 'sentinel';
    // Sentinel questions get part of the budget, so a frozen Sentinel yields `degraded`, not a timeout.
    const sentinelBudget = Math.max(50, Math.floor(timeoutMs * 0.6));
    const [node, sentinelMaster, quorum] = await Promise.all([
      this.probeNode(client),
      sentinelMode ? this.askAnySentinel(sentinelBudget) : Promise.resolve(undefined),
      sentinelMode && options.checkQuorum ? this.checkQuorum(sentinelBudget) : Promise.resolve(undefined),
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
      return await Promise.any(sentinels.map((s) => askMasterAddress(s, this.#options, budgetMs)));
    } catch {
      return undefined;
    }
  }

  private async checkQuorum(budgetMs: number): Promise<{ ok: boolean; message?: string }> {
    const { sentinels, masterName } = this.#options;
    try {
      await Promise.any(
        sentinels.map((s) =>
          querySentinel(s, this.#options, budgetMs, (c) => c.call('SENTINEL', 'CKQUORUM', masterName)),
        ),
      );
      return { ok: true };
    } catch (err) {
      const first = err instanceof AggregateError ? (err.errors[0] as Error) : (err as Error);
      return { ok: false, message: first?.message ?? 'no Sentinel answered' };
    }
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
