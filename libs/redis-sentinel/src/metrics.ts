/**
 * `@bastion/redis-sentinel/metrics`: Prometheus metrics of the Sentinel/standalone module
 * (`RedisSentinelMetricsModule`) and of the Cluster module (`RedisClusterMetricsModule`), a
 * subpath of its own so that the main entry never imports `prom-client` (an optional peer, needed
 * only here).
 */
export { RedisSentinelMetricsModule } from './redis-sentinel-metrics.module.js';
export { RedisSentinelMetrics } from './redis-sentinel-metrics.js';
export type { RedisSentinelMetricsOptions } from './redis-sentinel-metrics.module-definition.js';
export { RedisClusterMetricsModule } from './redis-cluster-metrics.module.js';
export { RedisClusterMetrics } from './redis-cluster-metrics.js';
export type { RedisClusterMetricsOptions } from './redis-cluster-metrics.module-definition.js';
