import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { SecretsModule, SecretsService } from '@bastion/secrets';
import {
  RedisSentinelModule,
  RedisUnavailableFilter,
  type RedisSentinelModuleOptions,
} from '@bastion/redis-sentinel';
import { LokiLoggerModule, type LokiLoggerModuleOptions } from '@bastion/loki-logger';
import { appConfig, type AppConfig } from './config/app.config.js';
import { appSecrets, type AppSecret } from './config/app-secrets.js';
import { REDIS_CLIENTS } from './common/redis-clients.js';
import { HealthController } from './health/health.controller.js';
import { CacheController } from './cache/cache.controller.js';
import { CacheService } from './cache/cache.service.js';
import { JobsController } from './jobs/jobs.controller.js';
import { JobsService } from './jobs/jobs.service.js';
import { JobsWorker } from './jobs/jobs.worker.js';
import { SessionController } from './session/session.controller.js';
import { NotificationsController } from './notifications/notifications.controller.js';
import { NotificationsService } from './notifications/notifications.service.js';
import type { Request } from 'express';

/** Redis options from the environment and the secrets: Sentinel mode, or standalone for development. */
export function redisOptions(
  config: AppConfig,
  secrets: SecretsService<AppSecret>,
): RedisSentinelModuleOptions {
  const password = secrets.get('redis_password');
  const sentinelPassword = secrets.get('sentinel_password');
  const common = {
    ...(password ? { password } : {}),
    ...(config.redisStartupTimeoutMs === undefined ? {} : { startupTimeoutMs: config.redisStartupTimeoutMs }),
  };
  if (config.redisSentinels) {
    return {
      ...common,
      sentinels: config.redisSentinels,
      masterName: config.redisMasterName,
      ...(sentinelPassword ? { sentinelPassword } : {}),
    };
  }
  return { ...common, url: config.redisUrl };
}

export function loggerOptions(
  config: AppConfig,
  secrets: SecretsService<AppSecret>,
): LokiLoggerModuleOptions {
  return {
    service: config.serviceName,
    env: config.nodeEnv,
    level: config.logLevel,
    format: config.logFormat,
    requestContext: {
      userId: (req: Request) => req.session?.user,
      logRequests: true,
      excludeFromRequestLog: ['/health/live', '/health/ready'],
    },
    ...(config.lokiUrl
      ? {
          loki: {
            url: config.lokiUrl,
            ...(config.lokiTenant ? { tenant: config.lokiTenant } : {}),
            ...(config.lokiUsername ? { username: config.lokiUsername } : {}),
            // Read at every push: a rotated loki_password is used without a restart.
            ...(secrets.has('loki_password') ? { password: () => secrets.get('loki_password') } : {}),
          },
        }
      : {}),
  };
}

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [appConfig] }),
    SecretsModule.forRootAsync({
      isGlobal: true,
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({ secrets: appSecrets, directory: config.secretsDir }),
    }),
    LokiLoggerModule.forRootAsync({
      isGlobal: true,
      inject: [appConfig.KEY, SecretsService],
      useFactory: loggerOptions,
    }),
    RedisSentinelModule.forRootAsync({
      isGlobal: true,
      clients: {
        ...REDIS_CLIENTS,
        // Its XREADGROUP blocks for up to 1 s: the command deadline must exceed that.
        worker: { role: 'master', ioredis: { commandTimeout: 3000 } },
      },
      inject: [appConfig.KEY, SecretsService],
      useFactory: redisOptions,
    }),
    TerminusModule,
  ],
  controllers: [
    HealthController,
    CacheController,
    JobsController,
    SessionController,
    NotificationsController,
  ],
  providers: [
    CacheService,
    JobsService,
    JobsWorker,
    NotificationsService,
    // Redis outage errors (failover, frozen master) answer 503 + Retry-After instead of 500.
    { provide: APP_FILTER, useClass: RedisUnavailableFilter },
  ],
})
export class AppModule {}
