import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { BullModule } from '@nestjs/bullmq';
import { CacheModule } from '@nestjs/cache-manager';
import { ThrottlerModule } from '@nestjs/throttler';
import { SecretsModule, SecretsService } from '@bastion/secrets';
import {
  getRedisToken,
  RedisClusterHealthIndicator,
  RedisClusterModule,
  RedisSentinelHealthIndicator,
  RedisSentinelModule,
  RedisUnavailableFilter,
  type RedisClusterModuleOptions,
  type RedisSentinelModuleOptions,
} from '@bastion/redis-sentinel';
import { RedisKeyvStore } from '@bastion/redis-sentinel/keyv';
import { RedisThrottlerStorage } from '@bastion/redis-sentinel/throttler';
import { LokiLoggerModule, type LokiLoggerModuleOptions } from '@bastion/loki-logger';
import { Keyv } from 'keyv';
import { appConfig, parseAppConfig, type AppConfig } from './config/app.config.js';
import { appSecrets, type AppSecret } from './config/app-secrets.js';
import { REDIS_CLIENTS, REDIS_CLUSTER_CLIENTS, type RedisClient } from './common/redis-clients.js';
import { HealthController } from './health/health.controller.js';
import { REDIS_HEALTH } from './health/redis-health.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { CacheController } from './cache/cache.controller.js';
import { CACHE_NAMESPACE, CacheService } from './cache/cache.service.js';
import { JOBS_CLUSTER_PREFIX, JOBS_QUEUE } from './jobs/job.js';
import { JobsController } from './jobs/jobs.controller.js';
import { JobsService } from './jobs/jobs.service.js';
import { JobsProcessor } from './jobs/jobs.processor.js';
import { SessionController } from './session/session.controller.js';
import { SIGN_IN_BLOCK_MS, SIGN_IN_LIMIT, SIGN_IN_WINDOW_MS } from './session/sign-in-throttler.guard.js';
import { NotificationsController } from './notifications/notifications.controller.js';
import { NotificationsGateway } from './notifications/notifications.gateway.js';
import { NotificationsService } from './notifications/notifications.service.js';
import type { Request } from 'express';

/** What both Redis modes take alike: the data password and the startup timeout. */
function commonRedisOptions(
  config: AppConfig,
  secrets: SecretsService<AppSecret>,
): { password?: string; startupTimeoutMs?: number } {
  const password = secrets.get('redis_password');
  return {
    ...(password ? { password } : {}),
    ...(config.redisStartupTimeoutMs === undefined ? {} : { startupTimeoutMs: config.redisStartupTimeoutMs }),
  };
}

/** Redis options from the environment and the secrets: Sentinel mode, or standalone for development. */
export function redisOptions(
  config: AppConfig,
  secrets: SecretsService<AppSecret>,
): RedisSentinelModuleOptions {
  const sentinelPassword = secrets.get('sentinel_password');
  const common = commonRedisOptions(config, secrets);
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

/** Redis Cluster options (REDIS_CLUSTER_NODES): the seed nodes and the data password. */
export function redisClusterOptions(
  config: AppConfig,
  secrets: SecretsService<AppSecret>,
): RedisClusterModuleOptions {
  return { ...commonRedisOptions(config, secrets), nodes: config.redisClusterNodes };
}

/**
 * The Redis module of the mode the environment picks. Both give the same client names under the
 * same tokens (`@InjectRedis('jobs')`), so the rest of the app does not know which one runs.
 */
function redisModule(config: AppConfig): DynamicModule {
  const inject = [appConfig.KEY, SecretsService];
  if (config.redisMode === 'cluster') {
    return RedisClusterModule.forRootAsync({
      isGlobal: true,
      clients: REDIS_CLUSTER_CLIENTS,
      inject,
      useFactory: redisClusterOptions,
    });
  }
  return RedisSentinelModule.forRootAsync({
    isGlobal: true,
    clients: REDIS_CLIENTS,
    inject,
    useFactory: redisOptions,
  });
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
      excludeFromRequestLog: ['/health/live', '/health/ready', '/metrics'],
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

/**
 * The configuration that decides which modules make up the app, read when this file is imported
 * (main.ts imports it inside its boot error handling): an invalid environment fails the boot here
 * with the same `AppConfigError`, every problem listed. Everything else reads `appConfig`.
 */
const bootConfig = parseAppConfig(process.env);

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [appConfig] }),
    SecretsModule.forRootAsync({
      isGlobal: true,
      inject: [appConfig.KEY],
      // rotation: the files are re-read when SECRETS_DIR changes (and every 60 s): what reads a
      // secret at use (loki_password, at each push) takes a new value without a restart; the rest
      // read theirs at boot. Each rotation counts in bastion_secrets_rotations_total.
      useFactory: (config: AppConfig) => ({
        secrets: appSecrets,
        directory: config.secretsDir,
        rotation: true,
      }),
    }),
    // GET /metrics with the metrics of each lib; left out with METRICS_ENABLED=false.
    MetricsModule.register(bootConfig.metricsEnabled, bootConfig.redisMode),
    LokiLoggerModule.forRootAsync({
      isGlobal: true,
      inject: [appConfig.KEY, SecretsService],
      useFactory: loggerOptions,
    }),
    redisModule(bootConfig),
    // BullMQ on the module's default client: shared by the queue and the worker's commands, and
    // duplicated (a managed copy that follows failovers) for the worker's blocking BZPOPMIN. Never
    // connection options: BullMQ's own connections would not follow a failover.
    // Shutdown order: JobsProcessor closes the worker in beforeApplicationShutdown; Nest then runs
    // onApplicationShutdown of the global modules in the reverse order of their registration, so
    // BullModule (queue, explorer) is done before RedisSentinelModule, imported above, closes the
    // clients. On a Redis Cluster, a hash-tag prefix keeps every key of the queue in one slot.
    BullModule.forRootAsync({
      inject: [getRedisToken('jobs')],
      useFactory: (redis: RedisClient) => ({
        connection: redis,
        ...(bootConfig.redisMode === 'cluster' ? { prefix: JOBS_CLUSTER_PREFIX } : {}),
      }),
    }),
    BullModule.registerQueue({
      name: JOBS_QUEUE,
      defaultJobOptions: {
        // A failed attempt (a job interrupted at shutdown) runs again after 1 s, 2 s, 4 s...
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        // Kept a day, so GET /jobs/:id can report them; then Redis forgets them.
        removeOnComplete: { age: 86_400 },
        removeOnFail: { age: 7 * 86_400 },
      },
    }),
    // cache-manager 7 on a Keyv store on the module's clients: writes to the master, reads from a
    // replica. throwOnErrors: a store error reaches cache-manager (see CacheService) instead of
    // being a silent miss inside Keyv.
    CacheModule.registerAsync({
      inject: [getRedisToken(), getRedisToken('reads')],
      useFactory: (redis: RedisClient, reads: RedisClient) => ({
        stores: [
          new Keyv({
            store: new RedisKeyvStore(redis, { readClient: reads }),
            namespace: CACHE_NAMESPACE,
            throwOnErrors: true,
          }),
        ],
      }),
    }),
    // Rate limits counted in Redis, shared by every instance. Applied to sign-in only
    // (SignInThrottlerGuard): never to the health probes, nor to the job and cache endpoints.
    ThrottlerModule.forRootAsync({
      inject: [getRedisToken()],
      useFactory: (redis: RedisClient) => ({
        throttlers: [{ ttl: SIGN_IN_WINDOW_MS, limit: SIGN_IN_LIMIT, blockDuration: SIGN_IN_BLOCK_MS }],
        storage: new RedisThrottlerStorage(redis, { failureMode: 'closed' }),
      }),
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
    JobsProcessor,
    NotificationsService,
    NotificationsGateway,
    // Redis outage errors (failover, frozen master) answer 503 + Retry-After instead of 500.
    { provide: APP_FILTER, useClass: RedisUnavailableFilter },
    {
      provide: REDIS_HEALTH,
      useExisting:
        bootConfig.redisMode === 'cluster' ? RedisClusterHealthIndicator : RedisSentinelHealthIndicator,
    },
  ],
})
export class AppModule {}
