import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { RedisClientsService } from './redis-clients.service.js';
import {
  getRedisToken,
  REDIS_CLIENT_DEFINITIONS,
  REDIS_SENTINEL_MODULE_OPTIONS,
} from './redis-sentinel.constants.js';
import type {
  RedisSentinelModuleExtras,
  RedisSentinelModuleOptions,
} from './redis-sentinel-options.interface.js';

export const { ConfigurableModuleClass, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<RedisSentinelModuleOptions>({
    moduleName: 'RedisSentinel',
    optionsInjectionToken: REDIS_SENTINEL_MODULE_OPTIONS,
  })
    .setClassMethodName('forRoot')
    .setExtras<RedisSentinelModuleExtras>(
      { isGlobal: false, clients: { default: 'master' } },
      (definition, extras) => {
        // Each declared name becomes an injection token, hence `clients` is an extra (known statically).
        const names = Object.keys(extras.clients ?? {});
        const clientProviders: Provider[] = names.map((name) => ({
          provide: getRedisToken(name),
          useFactory: (clients: RedisClientsService) => clients.get(name),
          inject: [RedisClientsService],
        }));
        return {
          ...definition,
          global: extras.isGlobal,
          providers: [
            ...(definition.providers ?? []),
            { provide: REDIS_CLIENT_DEFINITIONS, useValue: extras.clients },
            ...clientProviders,
          ],
          exports: [...(definition.exports ?? []), ...names.map((name) => getRedisToken(name))],
        };
      },
    )
    .build();

/** Argument of `RedisSentinelModule.forRoot()`: the options plus the extras `clients` and `isGlobal`. */
export type RedisSentinelModuleForRootOptions = typeof OPTIONS_TYPE;
/** Argument of `RedisSentinelModule.forRootAsync()`: `imports`, `inject`, `useFactory`, ... plus the extras. */
export type RedisSentinelModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
