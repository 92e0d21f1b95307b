import { Controller, Get, type INestApplication, NotFoundException } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  REDIS_UNAVAILABLE_BODY,
  RedisConnectionLostError,
  RedisUnavailableFilter,
} from '@bastion/redis-sentinel';
import { freePort } from '@bastion/redis-topology';

/** A real ioredis client on a loopback port where nothing listens: commands fail as in an outage. */
let dead: Redis;

@Controller()
class ProbeController {
  @Get('max-retries')
  maxRetries(): Promise<unknown> {
    return dead.get('k');
  }

  @Get('connection-lost')
  connectionLost(): never {
    throw new RedisConnectionLostError('default', 'set', '127.0.0.1:1');
  }

  @Get('not-found')
  notFound(): never {
    throw new NotFoundException('no such job');
  }

  @Get('plain-error')
  plainError(): never {
    throw new Error('payment service timeout');
  }
}

async function listen(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

describe.each([
  ['APP_FILTER provider', 'provider'],
  ['app.useGlobalFilters()', 'global'],
] as const)('RedisUnavailableFilter registered as %s, through a real HTTP app', (_label, registration) => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    dead = new Redis({
      host: '127.0.0.1',
      port: await freePort(),
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
      connectTimeout: 500,
    });
    dead.on('error', () => undefined);
    const moduleRef = await Test.createTestingModule({
      controllers: [ProbeController],
      providers:
        registration === 'provider' ? [{ provide: APP_FILTER, useClass: RedisUnavailableFilter }] : [],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    if (registration === 'global') app.useGlobalFilters(new RedisUnavailableFilter(app.getHttpAdapter()));
    url = await listen(app);
  });

  afterAll(async () => {
    await app?.close();
    dead?.disconnect();
  });

  it.each(['max-retries', 'connection-lost'])(
    'answers 503 + Retry-After + the stable body to a Redis outage error (%s)',
    async (path) => {
      const res = await fetch(`${url}/${path}`, { signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toEqual(REDIS_UNAVAILABLE_BODY);
    },
  );

  it('leaves an HttpException to Nest (404 with its own body)', async () => {
    const res = await fetch(`${url}/not-found`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(404);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'no such job' });
  });

  it('leaves any other error to Nest (500 Internal server error)', async () => {
    const res = await fetch(`${url}/plain-error`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(500);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await res.json()).toEqual({ statusCode: 500, message: 'Internal server error' });
  });
});
