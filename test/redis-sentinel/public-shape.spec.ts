import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  REDIS_SENTINEL_MODULE_OPTIONS,
  RedisClientsService,
  RedisSentinelHealthIndicator,
  RedisSentinelModule,
  type RedisHealthCheckOptions,
  type RedisSentinelHealthOptions,
  type RedisSentinelModuleAsyncOptions,
  type RedisSentinelModuleOptions,
  type RedisSentinelOptionsFactory,
} from '@bastion/redis-sentinel';

describe('RedisSentinelModule public shape', () => {
  it('useClass factories implement RedisSentinelOptionsFactory; the options token gives the options as given', async () => {
    @Injectable()
    class RedisOptions implements RedisSentinelOptionsFactory {
      createRedisSentinelOptions(): RedisSentinelModuleOptions {
        // Nothing listens there, and nothing connects before init().
        return { url: 'redis://127.0.0.1:1', startupTimeoutMs: 0 };
      }
    }
    @Module({ providers: [RedisOptions], exports: [RedisOptions] })
    class OptionsModule {
      readonly kind = 'options';
    }
    const async: RedisSentinelModuleAsyncOptions = { imports: [OptionsModule], useExisting: RedisOptions };
    const moduleRef = await Test.createTestingModule({
      imports: [RedisSentinelModule.forRootAsync(async)],
    }).compile();
    expect(moduleRef.get(REDIS_SENTINEL_MODULE_OPTIONS)).toEqual({
      url: 'redis://127.0.0.1:1',
      startupTimeoutMs: 0,
    });
    expect(moduleRef.get(RedisClientsService).stats()).toMatchObject({
      mode: 'standalone',
      currentMaster: '127.0.0.1:1',
    });
    await moduleRef.close();
  });

  it('isHealthy() checks under the key "redis" by default and answers without a connection', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RedisSentinelModule.forRoot({ url: 'redis://127.0.0.1:1' })],
    }).compile();
    const health = moduleRef.get(RedisSentinelHealthIndicator);
    const options: RedisSentinelHealthOptions = { client: 'default' };
    const deprecated: RedisHealthCheckOptions = options; // the old name, the same type
    expect(await health.isHealthy()).toEqual({
      redis: expect.objectContaining({ status: 'down', message: 'not connected (status wait)' }),
    });
    expect(Object.keys(await health.isHealthy(undefined, deprecated))).toEqual(['redis']);
    await moduleRef.close();
  });
});
