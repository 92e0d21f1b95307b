import { Inject, Module } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ClusterConfigurableModuleClass } from './redis-cluster.module-definition.js';
import { DEFAULT_REDIS_CONNECTION, REDIS_CONNECTION_NAME } from './redis-sentinel.constants.js';
import { RedisSentinelConfigError } from './redis-sentinel.errors.js';

/**
 * `RedisClusterModule.forRoot(options)` / `.forRootAsync({ inject, useFactory })`: Redis Cluster
 * clients (ioredis `Cluster`) with the extras `clients` (named clients and roles), `isGlobal` and
 * `connectionName`. `@InjectRedis(name?, connection?)` gives the `Cluster`. See the README.
 */
@Module({ imports: [TerminusModule, DiscoveryModule] })
export class RedisClusterModule extends ClusterConfigurableModuleClass {
  constructor(
    @Inject(DiscoveryService) discovery: DiscoveryService,
    @Inject(REDIS_CONNECTION_NAME) connection: string,
  ) {
    super();
    // Two instances with one name (Sentinel or Cluster) would export the same client tokens.
    const sameName = discovery
      .getProviders()
      .filter((wrapper) => wrapper.token === REDIS_CONNECTION_NAME && wrapper.instance === connection);
    if (sameName.length > 1) {
      const which =
        connection === DEFAULT_REDIS_CONNECTION
          ? 'the default connection (no connectionName)'
          : `connectionName "${connection}"`;
      throw new RedisSentinelConfigError(
        [
          `${sameName.length} Redis module instances (RedisSentinelModule / RedisClusterModule) use ${which}; ` +
            'give each forRoot/forRootAsync its own connectionName (one instance may omit it)',
        ],
        'RedisClusterModule',
      );
    }
  }
}
