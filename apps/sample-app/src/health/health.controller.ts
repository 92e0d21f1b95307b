import { Controller, Get, Inject } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { SecretsHealthIndicator } from '@bastion/secrets';
import { LokiHealthIndicator } from '@bastion/loki-logger';
import { appConfig, type AppConfig } from '../config/app.config.js';
import { REDIS_HEALTH, type RedisHealth } from './redis-health.js';

@Controller('health')
export class HealthController {
  private lastReady: { startedAt: number; outcome: Promise<HealthCheckResult> } | undefined;

  constructor(
    private readonly health: HealthCheckService,
    @Inject(REDIS_HEALTH) private readonly redis: RedisHealth,
    private readonly secrets: SecretsHealthIndicator,
    private readonly loki: LokiHealthIndicator,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  /** Liveness: the process can serve. Checks no dependency, so a Redis outage never restarts the app. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: Redis (connected to the master the Sentinels name; in Cluster mode, every slot
   * served and every master answering) and secrets. Loki is reported
   * but only as degraded when down: logs still reach stdout, so Loki must not take the app out.
   * Each indicator answers within its own 500 ms deadline (the default of all three libs) and
   * Terminus runs them concurrently, so this answers within 1 s, a Kubernetes probe's default timeout.
   * Concurrent probes share the Redis and secrets checks in flight, and reuse an answer for 250 ms
   * (Redis: until a reconnect or a failover): load balancers may probe every instance many times a
   * second, and a probe must stay cheaper than the requests it guards. Probes within 100 ms of a
   * check share its whole outcome, its 503 included (`HEALTH_READY_SHARE_MS`, default 100): a load
   * balancer probing many times a second costs one check per 100 ms, and an answer is at most that
   * much older than its check, far inside the probe's 1 s timeout.
   */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    const now = Date.now();
    if (this.lastReady !== undefined && now - this.lastReady.startedAt < this.config.healthReadyShareMs)
      return this.lastReady.outcome;
    const checks: HealthIndicatorFunction[] = [
      () => this.redis.isHealthy('redis', { timeoutMs: 500, freshnessMs: 250 }),
      () => this.secrets.isHealthy('secrets', { freshnessMs: 250 }),
    ];
    if (this.config.lokiUrl) checks.push(() => this.loki.isHealthy('loki'));
    const outcome = this.health.check(checks);
    // A 503 is a rejection: the probes that share it each await it; none is left unhandled.
    outcome.catch(() => undefined);
    this.lastReady = { startedAt: now, outcome };
    return outcome;
  }
}
