import type { HealthIndicatorResult } from '@nestjs/terminus';

/**
 * The Redis health indicator of the mode the app runs in: `RedisSentinelHealthIndicator` or
 * `RedisClusterHealthIndicator` (app.module.ts provides one under this token). Both answer the
 * same call; the details differ (the Sentinels' master, or one entry per shard).
 */
export const REDIS_HEALTH = Symbol('REDIS_HEALTH');

export interface RedisHealth {
  isHealthy<const Key extends string>(
    key: Key,
    options: { timeoutMs: number; freshnessMs: number },
  ): Promise<HealthIndicatorResult<Key>>;
}
