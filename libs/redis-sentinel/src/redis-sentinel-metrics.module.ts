import { Module } from '@nestjs/common';
import { RedisSentinelMetrics } from './redis-sentinel-metrics.js';
import { RedisSentinelMetricsConfigurableModule } from './redis-sentinel-metrics.module-definition.js';

/**
 * Prometheus metrics of a `RedisSentinelModule` instance (`@bastion/redis-sentinel/metrics`;
 * prom-client is an optional peer, loaded only by this entry). Finds the instance's
 * `RedisClientsService` wherever it is registered (no `isGlobal` needed); `connectionName` picks a
 * named instance.
 *
 * ```ts
 * imports: [RedisSentinelModule.forRoot({ sentinels, masterName }), RedisSentinelMetricsModule.forRoot()]
 * ```
 */
@Module({ providers: [RedisSentinelMetrics], exports: [RedisSentinelMetrics] })
export class RedisSentinelMetricsModule extends RedisSentinelMetricsConfigurableModule {}
