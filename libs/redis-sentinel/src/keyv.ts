/**
 * `@bastion/redis-sentinel/keyv`: a Keyv store for `@nestjs/cache-manager`. A subpath of its own so
 * that the main entry never needs `keyv` (an optional peer, needed only here).
 */
export { RedisKeyvStore, type RedisKeyvStoreOptions } from './keyv-redis.store.js';
