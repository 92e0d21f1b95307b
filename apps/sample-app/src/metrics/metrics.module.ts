import { Module, type DynamicModule } from '@nestjs/common';
import { SecretsMetricsModule } from '@bastion/secrets/metrics';
import { RedisSentinelMetricsModule } from '@bastion/redis-sentinel/metrics';
import { LokiLoggerMetricsModule } from '@bastion/loki-logger/metrics';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { MetricsController } from './metrics.controller.js';

/**
 * `GET /metrics`: Node's process metrics plus the libs' metrics modules, on a registry of the
 * app's own rather than prom-client's global one, so nothing else in the process (a library that
 * registers into the default) shows up unasked. `register(false)` (`METRICS_ENABLED=false`) is an
 * empty module: no registry, no metrics module, no route (404).
 */
@Module({})
export class MetricsModule {
  static register(enabled: boolean): DynamicModule {
    if (!enabled) return { module: MetricsModule };
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    return {
      module: MetricsModule,
      imports: [
        SecretsMetricsModule.forRoot({ registry }),
        RedisSentinelMetricsModule.forRoot({ registry }),
        LokiLoggerMetricsModule.forRoot({ registry }),
      ],
      controllers: [MetricsController],
      providers: [{ provide: Registry, useValue: registry }],
    };
  }
}
