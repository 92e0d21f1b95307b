import type { Type } from '@nestjs/common';
import { RedisClientsService } from './redis-clients.service.js';
import { RedisSentinelHealthIndicator } from './redis-sentinel-health.indicator.js';
import { RedisSentinelEvents } from './redis-sentinel.events.js';
import { isDefaultRedisConnection, redisConnectionPrefix } from './redis-sentinel.constants.js';

// Like `getDataSourceToken(name)` of @nestjs/typeorm: the default instance's token is the class
// itself, so injecting by class keeps working; a named instance's token is a string of its own.

/** Token of an instance's `RedisClientsService`: the class for the default instance. */
export function getRedisClientsServiceToken(connection?: string): Type<RedisClientsService> | string {
  return isDefaultRedisConnection(connection)
    ? RedisClientsService
    : `${redisConnectionPrefix(connection!)}RedisClientsService`;
}

/** Token of an instance's `RedisSentinelHealthIndicator`: the class for the default instance. */
export function getRedisHealthIndicatorToken(
  connection?: string,
): Type<RedisSentinelHealthIndicator> | string {
  return isDefaultRedisConnection(connection)
    ? RedisSentinelHealthIndicator
    : `${redisConnectionPrefix(connection!)}RedisSentinelHealthIndicator`;
}

/** Token of an instance's `RedisSentinelEvents`: the class for the default instance. */
export function getRedisEventsToken(connection?: string): Type<RedisSentinelEvents> | string {
  return isDefaultRedisConnection(connection)
    ? RedisSentinelEvents
    : `${redisConnectionPrefix(connection!)}RedisSentinelEvents`;
}
