import { Inject } from '@nestjs/common';
import { DEFAULT_REDIS_CLIENT, getRedisToken } from './redis-sentinel.constants.js';

/**
 * Injects the ioredis client declared under `name` in the module's `clients` (default
 * `'default'`). Type the parameter as `Redis` from `ioredis`.
 */
export const InjectRedis = (name: string = DEFAULT_REDIS_CLIENT): PropertyDecorator & ParameterDecorator =>
  Inject(getRedisToken(name));
