/**
 * `@bastion/secrets/metrics`: Prometheus metrics, a subpath of its own so that the main entry never
 * imports `prom-client` (an optional peer, needed only here).
 */
export { SecretsMetricsModule } from './secrets-metrics.module.js';
export { SecretsMetrics } from './secrets-metrics.js';
export type { SecretsMetricsOptions } from './secrets-metrics.module-definition.js';
