import { Inject, type Type } from '@nestjs/common';
import { RedisClusterClientsService } from './redis-cluster-clients.service.js';
import { RedisClusterHealthIndicator } from './redis-cluster-health.indicator.js';
import { RedisClusterEvents } from './redis-cluster.events.js';
import { isDefaultRedisConnection, redisConnectionPrefix } from './redis-sentinel.constants.js';

// As for the Sentinel module: the default instance's token is the class itself, a named
// instance's token is a string of its own. Clients use the shared `getRedisToken(name, connection)`.

/** Token of a Cluster instance's `RedisClusterClientsService`: the class for the default instance. */
export function getRedisClusterClientsServiceToken(
  connection?: string,
): Type<RedisClusterClientsService> | string {
  return isDefaultRedisConnection(connection)
    ? RedisClusterClientsService
    : `${redisConnectionPrefix(connection!)}RedisClusterClientsService`;
}

/** Token of a Cluster instance's `RedisClusterHealthIndicator`: the class for the default instance. */
export function getRedisClusterHealthIndicatorToken(
  connection?: string,
): Type<RedisClusterHealthIndicator> | string {
  return isDefaultRedisConnection(connection)
    ? RedisClusterHealthIndicator
    : `${redisConnectionPrefix(connection!)}RedisClusterHealthIndicator`;
}

/** Token of a Cluster instance's `RedisClusterEvents`: the class for the default instance. */
export function getRedisClusterEventsToken(connection?: string): Type<RedisClusterEvents> | string {
  return isDefaultRedisConnection(connection)
    ? RedisClusterEvents
    : `${redisConnectionPrefix(connection!)}RedisClusterEvents`;
}

type InjectDecorator = PropertyDecorator & ParameterDecorator;

/** Injects the `RedisClusterClientsService` of a Cluster instance (default: the one without `connectionName`). */
export const InjectRedisClusterClients = (connection?: string): InjectDecorator =>
  Inject(getRedisClusterClientsServiceToken(connection));

/** Injects the `RedisClusterHealthIndicator` of a Cluster instance (default: the one without `connectionName`). */
export const InjectRedisClusterHealth = (connection?: string): InjectDecorator =>
  Inject(getRedisClusterHealthIndicatorToken(connection));

/** Injects the `RedisClusterEvents` of a Cluster instance (default: the one without `connectionName`). */
export const InjectRedisClusterEvents = (connection?: string): InjectDecorator =>
  Inject(getRedisClusterEventsToken(connection));
