import { Inject } from '@nestjs/common';
import { DEFAULT_REDIS_CLIENT, getRedisToken } from './redis-sentinel.constants.js';
import {
  getRedisClientsServiceToken,
  getRedisEventsToken,
  getRedisHealthIndicatorToken,
} from './redis-sentinel.tokens.js';

type InjectDecorator = PropertyDecorator & ParameterDecorator;

/**
 * Injects the ioredis client declared under `name` in the module's `clients` (default
 * `'default'`) of the instance declared with `connectionName: connection` (default: the
 * instance without one). Type the parameter as `Redis` from `ioredis`.
 */
export const InjectRedis = (name: string = DEFAULT_REDIS_CLIENT, connection?: string): InjectDecorator =>
  Inject(getRedisToken(name, connection));

/** Injects the `RedisClientsService` of an instance (default: the instance without `connectionName`). */
export const InjectRedisClients = (connection?: string): InjectDecorator =>
  Inject(getRedisClientsServiceToken(connection));

/** Injects the `RedisSentinelHealthIndicator` of an instance (default: the one without `connectionName`). */
export const InjectRedisHealth = (connection?: string): InjectDecorator =>
  Inject(getRedisHealthIndicatorToken(connection));

/** Injects the `RedisSentinelEvents` of an instance (default: the one without `connectionName`). */
export const InjectRedisEvents = (connection?: string): InjectDecorator =>
  Inject(getRedisEventsToken(connection));
