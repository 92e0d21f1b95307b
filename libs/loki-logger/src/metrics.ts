/**
 * `@bastion/loki-logger/metrics`: Prometheus metrics, a subpath of its own so that the main entry
 * never imports `prom-client` (an optional peer, needed only here).
 */
export { LokiLoggerMetricsModule } from './loki-logger-metrics.module.js';
export { LokiLoggerMetrics } from './loki-logger-metrics.js';
export type { LokiLoggerMetricsOptions } from './loki-logger-metrics.module-definition.js';
