import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { RedisClientsService } from './redis-clients.service.js';
import { RedisSentinelHealthIndicator } from './redis-sentinel-health.indicator.js';
import {
  DEFAULT_REDIS_CONNECTION,
  getRedisToken,
  REDIS_CLIENT_DEFINITIONS,
  REDIS_CLIENTS_SERVICE,
  REDIS_CONNECTION_NAME,
  REDIS_SENTINEL_EVENTS,
  REDIS_SENTINEL_MODULE_OPTIONS,
  REDIS_SENTINEL_RESOLVED_OPTIONS,
} from './redis-sentinel.constants.js';
import { RedisSentinelConfigError } from './redis-sentinel.errors.js';
import { RedisSentinelEvents } from './redis-sentinel.events.js';
import type {
  RedisClientDefinition,
  RedisClientRole,
  RedisSentinelModuleExtras,
  RedisSentinelModuleOptions,
} from './redis-sentinel-options.interface.js';
import { resolveRedisSentinelOptions } from './redis-sentinel-options.resolver.js';
import {
  getRedisClientsServiceToken,
  getRedisEventsToken,
  getRedisHealthIndicatorToken,
} from './redis-sentinel.tokens.js';

const CONNECTION_NAME = /^[A-Za-z0-9_.-]+$/;

export const { ConfigurableModuleClass, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<RedisSentinelModuleOptions>({
    moduleName: 'RedisSentinel',
    optionsInjectionToken: REDIS_SENTINEL_MODULE_OPTIONS,
  })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createRedisSentinelOptions')
    .setExtras<RedisSentinelModuleExtras>(
      { isGlobal: false, clients: { default: 'master' }, connectionName: undefined },
      (definition, extras) => {
        const connection = extras.connectionName ?? DEFAULT_REDIS_CONNECTION;
        if (typeof connection !== 'string' || !CONNECTION_NAME.test(connection)) {
          throw new RedisSentinelConfigError([
            `connectionName is not a valid name (got ${JSON.stringify(connection)}); use letters, digits, "_", "-", ".", e.g. "cache"`,
          ]);
        }
        // The services sit under private tokens that every instance has and never exports;
        // only the per-connection tokens below are exported, so instances never collide.
        const services: Provider[] = [
          { provide: REDIS_CONNECTION_NAME, useValue: connection },
          { provide: REDIS_CLIENT_DEFINITIONS, useValue: extras.clients },
          // The options are checked and their defaults applied once, here; the services inject the result.
          {
            provide: REDIS_SENTINEL_RESOLVED_OPTIONS,
            useFactory: (
              options: RedisSentinelModuleOptions,
              definitions: Record<string, RedisClientRole | RedisClientDefinition> | undefined,
            ) => resolveRedisSentinelOptions(options, definitions),
            inject: [REDIS_SENTINEL_MODULE_OPTIONS, REDIS_CLIENT_DEFINITIONS],
          },
          { provide: REDIS_SENTINEL_EVENTS, useClass: RedisSentinelEvents },
          { provide: REDIS_CLIENTS_SERVICE, useClass: RedisClientsService },
          { provide: getRedisEventsToken(connection), useExisting: REDIS_SENTINEL_EVENTS },
          { provide: getRedisClientsServiceToken(connection), useExisting: REDIS_CLIENTS_SERVICE },
          { provide: getRedisHealthIndicatorToken(connection), useClass: RedisSentinelHealthIndicator },
        ];
        // Each declared name becomes an injection token, hence `clients` is an extra (known statically).
        const names = Object.keys(extras.clients ?? {});
        const clientProviders: Provider[] = names.map((name) => ({
          provide: getRedisToken(name, connection),
          useFactory: (clients: RedisClientsService) => clients.get(name),
          inject: [REDIS_CLIENTS_SERVICE],
        }));
        return {
          ...definition,
          global: extras.isGlobal,
          providers: [...(definition.providers ?? []), ...services, ...clientProviders],
          exports: [
            ...(definition.exports ?? []),
            getRedisEventsToken(connection),
            getRedisClientsServiceToken(connection),
            getRedisHealthIndicatorToken(connection),
            ...names.map((name) => getRedisToken(name, connection)),
          ],
        };
      },
    )
    .build();

/** Argument of `RedisSentinelModule.forRoot()`: the options plus the extras `clients`, `isGlobal`, `connectionName`. */
export type RedisSentinelModuleForRootOptions = typeof OPTIONS_TYPE;
/** Argument of `RedisSentinelModule.forRootAsync()`: `imports`, `inject`, `useFactory`, ... plus the extras. */
export type RedisSentinelModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;

/** What a `forRootAsync({ useClass })` or `useExisting` class implements. */
export interface RedisSentinelOptionsFactory {
  createRedisSentinelOptions(): RedisSentinelModuleOptions | Promise<RedisSentinelModuleOptions>;
}
