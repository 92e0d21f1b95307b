import { Module, type DynamicModule } from '@nestjs/common';
import type { RedisMode } from '../config/app.config.js';

/**
 * `GET /metrics`: Node's process metrics plus the libs' metrics modules, on a registry of the
 * app's own rather than prom-client's global one, so nothing else in the process (a library that
 * registers into the default) shows up unasked. `register(false)` (`METRICS_ENABLED=false`) is an
 * empty module: no registry, no metrics module, no route (404), and neither prom-client nor the
 * libs' `/metrics` entries are loaded (an older lib without them still runs the app: the
 * `bench:app` baseline).
 */
@Module({})
export class MetricsModule {
  static async register(enabled: boolean, redisMode: RedisMode): Promise<DynamicModule> {
    if (!enabled) return { module: MetricsModule };
    const [
      { collectDefaultMetrics, Registry },
      { SecretsMetricsModule },
      { RedisClusterMetricsModule, RedisSentinelMetricsModule },
      { LokiLoggerMetricsModule },
      { MetricsController },
    ] = await Promise.all([
      import('prom-client'),
      import('@bastion/secrets/metrics'),
      import('@bastion/redis-sentinel/metrics'),
      import('@bastion/loki-logger/metrics'),
      import('./metrics.controller.js'),
    ]);
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    return {
      module: MetricsModule,
      imports: [
        SecretsMetricsModule.forRoot({ registry }),
        // The Redis module's own metrics module: the series are the same where the meaning is.
        redisMode === 'cluster'
          ? RedisClusterMetricsModule.forRoot({ registry })
          : RedisSentinelMetricsModule.forRoot({ registry }),
        LokiLoggerMetricsModule.forRoot({ registry }),
      ],
      controllers: [MetricsController],
      providers: [{ provide: Registry, useValue: registry }],
    };
  }
}
