import { Inject, Module } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ClusterConfigurableModuleClass } from './redis-cluster.module-definition.js';
import { instancesUsingConnection } from './connection-name-instances.js';
import { REDIS_CONNECTION_NAME } from './redis-sentinel.constants.js';
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
    const { count, which } = instancesUsingConnection(discovery, connection);
    if (count > 1) {
      throw new RedisSentinelConfigError(
        [
          `${count} Redis module instances (RedisSentinelModule / RedisClusterModule) use ${which}; ` +
            'give each forRoot/forRootAsync its own connectionName (one instance may omit it)',
        ],
        'RedisClusterModule',
      );
    }
  }
}
