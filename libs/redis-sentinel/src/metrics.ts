/**
 * `@bastion/redis-sentinel/metrics`: Prometheus metrics, a subpath of its own so that the main
 * entry never imports `prom-client` (an optional peer, needed only here).
 */
export { RedisSentinelMetricsModule } from './redis-sentinel-metrics.module.js';
export { RedisSentinelMetrics } from './redis-sentinel-metrics.js';
export type { RedisSentinelMetricsOptions } from './redis-sentinel-metrics.module-definition.js';
