/**
 * Injection token of the module options as given to `forRoot` / returned by the async factory
 * (private to each module instance: inject it from a provider of that instance, e.g. in tests).
 */
export const REDIS_SENTINEL_MODULE_OPTIONS = 'BASTION_REDIS_SENTINEL_MODULE_OPTIONS';
/**
 * Injection token of the resolved, frozen options (internal, private to each module instance):
 * `resolveRedisSentinelOptions()` runs once in its provider; the services inject its result.
 */
export const REDIS_SENTINEL_RESOLVED_OPTIONS = 'BASTION_REDIS_SENTINEL_RESOLVED_OPTIONS';
/** Injection token of the declared client definitions (internal, private to each instance). */
export const REDIS_CLIENT_DEFINITIONS = 'BASTION_REDIS_CLIENT_DEFINITIONS';
/** Injection token of the instance's connection name (internal, private to each instance). */
export const REDIS_CONNECTION_NAME = 'BASTION_REDIS_CONNECTION_NAME';
/**
 * The instance's `RedisClientsService` and `RedisSentinelEvents` (internal, private to each
 * instance). The classes depend on these, never on the class tokens: with a global default
 * instance, a class token would resolve to the default instance's service from a named one.
 */
export const REDIS_CLIENTS_SERVICE = 'BASTION_REDIS_CLIENTS_SERVICE';
export const REDIS_SENTINEL_EVENTS = 'BASTION_REDIS_SENTINEL_EVENTS';
/** The client injected by `@InjectRedis()` without a name. */
export const DEFAULT_REDIS_CLIENT = 'default';
/** The module instance declared without `connectionName`. Its tokens are the plain ones. */
export const DEFAULT_REDIS_CONNECTION = 'default';

/** `true` for `undefined` and `'default'`: both name the default instance. */
export function isDefaultRedisConnection(connection: string | undefined): boolean {
  return connection === undefined || connection === DEFAULT_REDIS_CONNECTION;
}

/**
 * Token prefix of a named instance. Connection names contain no `:` (checked in `forRoot`), so
 * two instances never share a token, and none starts like a default-instance token.
 */
export function redisConnectionPrefix(connection: string): string {
  return `BASTION_REDIS_CONNECTION:${connection}:`;
}

/**
 * Injection token of a client: `@Inject(getRedisToken('reads'))` = `@InjectRedis('reads')`, and
 * `getRedisToken('default', 'cache')` = `@InjectRedis('default', 'cache')` for the instance
 * declared with `connectionName: 'cache'`. The default instance's tokens are unchanged.
 */
export function getRedisToken(
  name: string = DEFAULT_REDIS_CLIENT,
  connection: string = DEFAULT_REDIS_CONNECTION,
): string {
  return isDefaultRedisConnection(connection)
    ? `BASTION_REDIS_CLIENT:${name}`
    : `${redisConnectionPrefix(connection)}CLIENT:${name}`;
}

/** `RedisClusterModule`'s options as given (private to each instance, like `REDIS_SENTINEL_MODULE_OPTIONS`). */
export const REDIS_CLUSTER_MODULE_OPTIONS = 'BASTION_REDIS_CLUSTER_MODULE_OPTIONS';
/** `RedisClusterModule`'s resolved, frozen options (internal, private to each instance). */
export const REDIS_CLUSTER_RESOLVED_OPTIONS = 'BASTION_REDIS_CLUSTER_RESOLVED_OPTIONS';
/** `RedisClusterModule`'s `RedisClusterClientsService` and `RedisClusterEvents` (internal, private to each instance). */
export const REDIS_CLUSTER_CLIENTS_SERVICE = 'BASTION_REDIS_CLUSTER_CLIENTS_SERVICE';
export const REDIS_CLUSTER_EVENTS = 'BASTION_REDIS_CLUSTER_EVENTS';
