import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { RedisClusterClientsService } from './redis-cluster-clients.service.js';
import { RedisClusterHealthIndicator } from './redis-cluster-health.indicator.js';
import type {
  RedisClusterClientDefinition,
  RedisClusterClientRole,
  RedisClusterModuleExtras,
  RedisClusterModuleOptions,
} from './redis-cluster-options.interface.js';
import { resolveRedisClusterOptions } from './redis-cluster-options.resolver.js';
import { RedisClusterEvents } from './redis-cluster.events.js';
import {
  getRedisClusterClientsServiceToken,
  getRedisClusterEventsToken,
  getRedisClusterHealthIndicatorToken,
} from './redis-cluster.tokens.js';
import {
  DEFAULT_REDIS_CONNECTION,
  getRedisToken,
  REDIS_CLIENT_DEFINITIONS,
  REDIS_CLUSTER_CLIENTS_SERVICE,
  REDIS_CLUSTER_EVENTS,
  REDIS_CLUSTER_MODULE_OPTIONS,
  REDIS_CLUSTER_RESOLVED_OPTIONS,
  REDIS_CONNECTION_NAME,
} from './redis-sentinel.constants.js';
import { RedisSentinelConfigError } from './redis-sentinel.errors.js';

const CONNECTION_NAME = /^[A-Za-z0-9_.-]+$/;

export const {
  ConfigurableModuleClass: ClusterConfigurableModuleClass,
  OPTIONS_TYPE: CLUSTER_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CLUSTER_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisClusterModuleOptions>({
  moduleName: 'RedisCluster',
  optionsInjectionToken: REDIS_CLUSTER_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createRedisClusterOptions')
  .setExtras<RedisClusterModuleExtras>(
    { isGlobal: false, clients: { default: 'master' }, connectionName: undefined },
    (definition, extras) => {
      const connection = extras.connectionName ?? DEFAULT_REDIS_CONNECTION;
      if (typeof connection !== 'string' || !CONNECTION_NAME.test(connection)) {
        throw new RedisSentinelConfigError(
          [
            `connectionName is not a valid name (got ${JSON.stringify(connection)}); use letters, digits, "_", "-", ".", e.g. "shards"`,
          ],
          'RedisClusterModule',
        );
      }
      // Private tokens every instance has and never exports; only the per-connection tokens are
      // exported. REDIS_CONNECTION_NAME is the Sentinel module's too: one name per app across both.
      const services: Provider[] = [
        { provide: REDIS_CONNECTION_NAME, useValue: connection },
        { provide: REDIS_CLIENT_DEFINITIONS, useValue: extras.clients },
        {
          provide: REDIS_CLUSTER_RESOLVED_OPTIONS,
          useFactory: (
            options: RedisClusterModuleOptions,
            definitions: Record<string, RedisClusterClientRole | RedisClusterClientDefinition> | undefined,
          ) => resolveRedisClusterOptions(options, definitions),
          inject: [REDIS_CLUSTER_MODULE_OPTIONS, REDIS_CLIENT_DEFINITIONS],
        },
        { provide: REDIS_CLUSTER_EVENTS, useClass: RedisClusterEvents },
        { provide: REDIS_CLUSTER_CLIENTS_SERVICE, useClass: RedisClusterClientsService },
        { provide: getRedisClusterEventsToken(connection), useExisting: REDIS_CLUSTER_EVENTS },
        {
          provide: getRedisClusterClientsServiceToken(connection),
          useExisting: REDIS_CLUSTER_CLIENTS_SERVICE,
        },
        { provide: getRedisClusterHealthIndicatorToken(connection), useClass: RedisClusterHealthIndicator },
      ];
      const names = Object.keys(extras.clients ?? {});
      const clientProviders: Provider[] = names.map((name) => ({
        provide: getRedisToken(name, connection),
        useFactory: (clients: RedisClusterClientsService) => clients.get(name),
        inject: [REDIS_CLUSTER_CLIENTS_SERVICE],
      }));
      return {
        ...definition,
        global: extras.isGlobal,
        providers: [...(definition.providers ?? []), ...services, ...clientProviders],
        exports: [
          ...(definition.exports ?? []),
          getRedisClusterEventsToken(connection),
          getRedisClusterClientsServiceToken(connection),
          getRedisClusterHealthIndicatorToken(connection),
          ...names.map((name) => getRedisToken(name, connection)),
        ],
      };
    },
  )
  .build();

/** Argument of `RedisClusterModule.forRoot()`: the options plus the extras `clients`, `isGlobal`, `connectionName`. */
export type RedisClusterModuleForRootOptions = typeof CLUSTER_OPTIONS_TYPE;
/** Argument of `RedisClusterModule.forRootAsync()`: `imports`, `inject`, `useFactory`, ... plus the extras. */
export type RedisClusterModuleAsyncOptions = typeof CLUSTER_ASYNC_OPTIONS_TYPE;

/** What a `forRootAsync({ useClass })` or `useExisting` class implements. */
export interface RedisClusterOptionsFactory {
  createRedisClusterOptions(): RedisClusterModuleOptions | Promise<RedisClusterModuleOptions>;
}
