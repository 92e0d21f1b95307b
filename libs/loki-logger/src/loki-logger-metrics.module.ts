import { Module } from '@nestjs/common';
import { LokiLoggerMetrics } from './loki-logger-metrics.js';
import { LokiLoggerMetricsConfigurableModule } from './loki-logger-metrics.module-definition.js';

/**
 * Prometheus metrics of `LokiLoggerModule` (`@bastion/loki-logger/metrics`; prom-client is an
 * optional peer, loaded only by this entry). Needs `LokiLogger` visible: register
 * `LokiLoggerModule` with `isGlobal: true`.
 *
 * ```ts
 * imports: [LokiLoggerModule.forRoot({ service, loki, isGlobal: true }), LokiLoggerMetricsModule.forRoot()]
 * ```
 */
@Module({ providers: [LokiLoggerMetrics], exports: [LokiLoggerMetrics] })
export class LokiLoggerMetricsModule extends LokiLoggerMetricsConfigurableModule {}
