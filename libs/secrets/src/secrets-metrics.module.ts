import { Module } from '@nestjs/common';
import { SecretsMetrics } from './secrets-metrics.js';
import { SecretsMetricsConfigurableModule } from './secrets-metrics.module-definition.js';

/**
 * Prometheus metrics of `SecretsModule` (`@bastion/secrets/metrics`; prom-client is an optional
 * peer, loaded only by this entry). Needs `SecretsService` visible: register `SecretsModule` with
 * `isGlobal: true`.
 *
 * ```ts
 * imports: [SecretsModule.forRoot({ secrets, isGlobal: true }), SecretsMetricsModule.forRoot()]
 * ```
 */
@Module({ providers: [SecretsMetrics], exports: [SecretsMetrics] })
export class SecretsMetricsModule extends SecretsMetricsConfigurableModule {}
