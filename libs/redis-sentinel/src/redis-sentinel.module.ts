import { Inject, Module } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { instancesUsingConnection } from './connection-name-instances.js';
import { REDIS_CONNECTION_NAME } from './redis-sentinel.constants.js';
import { RedisSentinelConfigError } from './redis-sentinel.errors.js';
import { ConfigurableModuleClass } from './redis-sentinel.module-definition.js';

/**
 * `RedisSentinelModule.forRoot(options)` / `.forRootAsync({ inject, useFactory })`, plus the
 * extras `clients` (named clients and roles), `isGlobal` and `connectionName`. See the README.
 * Providers and exports come from `forRoot`: they depend on the instance's connection name.
 */
@Module({ imports: [TerminusModule, DiscoveryModule] })
export class RedisSentinelModule extends ConfigurableModuleClass {
  constructor(
    @Inject(DiscoveryService) discovery: DiscoveryService,
    @Inject(REDIS_CONNECTION_NAME) connection: string,
  ) {
    super();
    // Two instances with one name would export the same tokens, and Nest would silently hand
    // out either one's clients. Runs while the app is built, before anything connects.
    const { count, which } = instancesUsingConnection(discovery, connection);
    if (count > 1) {
      throw new RedisSentinelConfigError([
        `${count} RedisSentinelModule instances use ${which}; give each forRoot/forRootAsync ` +
          'its own connectionName (one instance may omit it), or import one global instance (isGlobal: true)',
      ]);
    }
  }
}
