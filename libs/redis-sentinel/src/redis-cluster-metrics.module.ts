import { Module } from '@nestjs/common';
import { RedisClusterMetrics } from './redis-cluster-metrics.js';
import { RedisClusterMetricsConfigurableModule } from './redis-cluster-metrics.module-definition.js';

/**
 * Prometheus metrics of a `RedisClusterModule` instance (`@bastion/redis-sentinel/metrics`;
 * prom-client is an optional peer, loaded only by this entry): the names of
 * `RedisSentinelMetricsModule` where the meaning is the same, plus the slot map's. Finds the
 * instance's `RedisClusterClientsService` wherever it is registered (no `isGlobal` needed);
 * `connectionName` picks a named instance.
 *
 * ```ts
 * imports: [RedisClusterModule.forRoot({ nodes }), RedisClusterMetricsModule.forRoot({ registry })]
 * ```
 */
@Module({ providers: [RedisClusterMetrics], exports: [RedisClusterMetrics] })
export class RedisClusterMetricsModule extends RedisClusterMetricsConfigurableModule {}
