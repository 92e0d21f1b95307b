/**
 * `@bastion/redis-sentinel/throttler`: a `@nestjs/throttler` storage. A subpath of its own so that
 * the main entry never needs `@nestjs/throttler` (an optional peer, needed only here).
 */
export {
  RedisThrottlerStorage,
  type RedisThrottlerStorageOptions,
  type RedisThrottlerStorageStats,
} from './throttler-redis.storage.js';
