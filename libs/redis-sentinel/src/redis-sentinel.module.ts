import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisClientsService } from './redis-clients.service.js';
import { RedisSentinelHealthIndicator } from './redis-sentinel-health.indicator.js';
import { ConfigurableModuleClass } from './redis-sentinel.module-definition.js';
import { RedisSentinelEvents } from './redis-sentinel.events.js';

/**
 * `RedisSentinelModule.forRoot(options)` / `.forRootAsync({ inject, useFactory })`, plus the
 * extras `clients` (named clients and roles) and `isGlobal`. See the README.
 */
@Module({
  imports: [TerminusModule],
  providers: [RedisSentinelEvents, RedisClientsService, RedisSentinelHealthIndicator],
  exports: [RedisSentinelEvents, RedisClientsService, RedisSentinelHealthIndicator],
})
export class RedisSentinelModule extends ConfigurableModuleClass {}
