/** What the throttler specs (Sentinel and Cluster) share: the throttled app and how to call it. */
import { createHash } from 'node:crypto';
import { Controller, Get, type DynamicModule, type INestApplication } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ThrottlerGuard, ThrottlerModule, type ThrottlerOptions } from '@nestjs/throttler';
import type { Cluster, Redis } from 'ioredis';
import { getRedisToken, RedisUnavailableFilter } from '@bastion/redis-sentinel';
import { RedisThrottlerStorage, type RedisThrottlerStorageOptions } from '@bastion/redis-sentinel/throttler';

/** The count deadline of the apps' storages. */
export const TIMEOUT_MS = 300;
/** Requests per tracker in a window, unless a test says otherwise. */
export const LIMIT = 5;

/** The throttled route: `GET /ping`. */
@Controller()
export class PingController {
  @Get('ping')
  ping(): string {
    return 'pong';
  }
}

export interface ThrottledApp {
  app: INestApplication;
  url: string;
  storage: RedisThrottlerStorage;
}

/**
 * One HTTP app: the Redis module given (global), throttler on `RedisThrottlerStorage` as
 * `APP_GUARD`, optionally the 503 filter. The tracker is the `x-client` header, so each test counts
 * its own clients.
 */
export async function startThrottledApp(
  redisModule: DynamicModule,
  storageOptions: RedisThrottlerStorageOptions,
  { filter = false, throttler = {} }: { filter?: boolean; throttler?: Partial<ThrottlerOptions> } = {},
): Promise<ThrottledApp> {
  let storage: RedisThrottlerStorage | undefined;
  const moduleRef = await Test.createTestingModule({
    imports: [
      redisModule,
      ThrottlerModule.forRootAsync({
        inject: [getRedisToken()],
        useFactory: (redis: Redis | Cluster) => {
          storage = new RedisThrottlerStorage(redis, { timeoutMs: TIMEOUT_MS, ...storageOptions });
          return {
            throttlers: [{ ttl: 10_000, limit: LIMIT, ...throttler }],
            getTracker: (req: Record<string, unknown>) =>
              (req.headers as Record<string, string | undefined>)['x-client'] ?? 'anonymous',
            storage,
          };
        },
      }),
    ],
    controllers: [PingController],
    providers: [
      // ThrottlerGuard is compiled with decorator metadata, so its own constructor injection works.
      { provide: APP_GUARD, useClass: ThrottlerGuard },
      ...(filter ? [{ provide: APP_FILTER, useClass: RedisUnavailableFilter }] : []),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, storage: storage! };
}

/** `GET /ping` as the tracker `client`. */
export async function hit(
  url: string,
  client: string,
): Promise<{ status: number; ms: number; headers: Headers; body: string }> {
  const started = Date.now();
  const res = await fetch(`${url}/ping`, {
    headers: { 'x-client': client },
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.text();
  return { status: res.status, ms: Date.now() - started, headers: res.headers, body };
}

/** The Redis keys of a tracker (ThrottlerGuard's default key: sha256 of class, handler, throttler, tracker). */
export function trackerKeys(client: string): { hits: string; blocked: string } {
  const key = createHash('sha256').update(`PingController-ping-default-${client}`).digest('hex');
  return { hits: `throttler:{default:${key}}:hits`, blocked: `throttler:{default:${key}}:blocked` };
}
