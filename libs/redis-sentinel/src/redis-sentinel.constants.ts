/** Injection token of the module options (internal). */
export const REDIS_SENTINEL_MODULE_OPTIONS = 'BASTION_REDIS_SENTINEL_MODULE_OPTIONS';
/** Injection token of the declared client definitions (internal). */
export const REDIS_CLIENT_DEFINITIONS = 'BASTION_REDIS_CLIENT_DEFINITIONS';
/** The client injected by `@InjectRedis()` without a name. */
export const DEFAULT_REDIS_CLIENT = 'default';

/** Injection token of the named client: `@Inject(getRedisToken('reads'))` = `@InjectRedis('reads')`. */
export function getRedisToken(name: string = DEFAULT_REDIS_CLIENT): string {
  return `BASTION_REDIS_CLIENT:${name}`;
}
