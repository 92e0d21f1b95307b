export { RedisSentinelModule } from './redis-sentinel.module.js';
export type {
  RedisSentinelModuleAsyncOptions,
  RedisSentinelModuleForRootOptions,
  RedisSentinelOptionsFactory,
} from './redis-sentinel.module-definition.js';
export type {
  RedisClientDefinition,
  RedisClientRole,
  RedisNatMap,
  RedisSentinelModuleExtras,
  RedisSentinelModuleOptions,
} from './redis-sentinel-options.interface.js';
export {
  InjectRedis,
  InjectRedisClients,
  InjectRedisEvents,
  InjectRedisHealth,
} from './inject-redis.decorator.js';
export {
  getRedisToken,
  DEFAULT_REDIS_CLIENT,
  DEFAULT_REDIS_CONNECTION,
  REDIS_CLUSTER_MODULE_OPTIONS,
  REDIS_SENTINEL_MODULE_OPTIONS,
} from './redis-sentinel.constants.js';
export {
  getRedisClientsServiceToken,
  getRedisEventsToken,
  getRedisHealthIndicatorToken,
} from './redis-sentinel.tokens.js';
export { RedisClientsService, type RedisSentinelStats } from './redis-clients.service.js';
export type { RedisClientStats } from './managed-redis-client.js';
export { RedisSentinelEvents, type RedisSentinelEventMap } from './redis-sentinel.events.js';
export {
  RedisSentinelHealthIndicator,
  type RedisHealthCheckOptions,
  type RedisSentinelHealthOptions,
} from './redis-sentinel-health.indicator.js';
export { durableCall, durableWrite, type DurableWriteOptions } from './durable-write.js';
export type { RedisAddress } from './redis-address.js';
export {
  DurableWriteError,
  RedisClientNotFoundError,
  RedisConnectionLostError,
  RedisSentinelConfigError,
  RedisSentinelStartupError,
  RedisSentinelUnavailableError,
} from './redis-sentinel.errors.js';
export { isRedisUnavailableError } from './redis-unavailable.error-check.js';
export {
  REDIS_UNAVAILABLE_BODY,
  REDIS_UNAVAILABLE_RETRY_AFTER_SECONDS,
  RedisUnavailableFilter,
} from './redis-unavailable.filter.js';
// Redis Cluster mode: a module of its own, same conventions, same `@InjectRedis()`.
export { RedisClusterModule } from './redis-cluster.module.js';
export type {
  RedisClusterModuleAsyncOptions,
  RedisClusterModuleForRootOptions,
  RedisClusterOptionsFactory,
} from './redis-cluster.module-definition.js';
export type {
  RedisClusterClientDefinition,
  RedisClusterClientRole,
  RedisClusterModuleExtras,
  RedisClusterModuleOptions,
} from './redis-cluster-options.interface.js';
export { RedisClusterClientsService, type RedisClusterStats } from './redis-cluster-clients.service.js';
export type { RedisClusterClientStats } from './managed-redis-cluster.js';
export { RedisClusterEvents, type RedisClusterEventMap } from './redis-cluster.events.js';
export {
  RedisClusterHealthIndicator,
  type RedisClusterHealthOptions,
} from './redis-cluster-health.indicator.js';
export {
  getRedisClusterClientsServiceToken,
  getRedisClusterEventsToken,
  getRedisClusterHealthIndicatorToken,
  InjectRedisClusterClients,
  InjectRedisClusterEvents,
  InjectRedisClusterHealth,
} from './redis-cluster.tokens.js';
export { DurableWriteCrossSlotError } from './redis-sentinel.errors.js';
