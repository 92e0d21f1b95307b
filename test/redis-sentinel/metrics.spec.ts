import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Registry } from 'prom-client';
import {
  DurableWriteError,
  durableWrite,
  getRedisClientsServiceToken,
  RedisClientsService,
  RedisSentinelModule,
} from '@bastion/redis-sentinel';
import { RedisSentinelMetricsModule } from '@bastion/redis-sentinel/metrics';
import { triggerFailoverWithRetry } from '../support/sentinel-clock.js';
import { useTopology } from '../support/use-topology.js';
import {
  PASSWORD,
  PROTECTED_TOPOLOGY,
  SENTINEL_PASSWORD,
  sentinelOptions,
  waitReplicasAttached,
} from './support.js';
import { scrape, seriesMatching } from '../support/prometheus-text.js';

describe('@bastion/redis-sentinel/metrics (prom-client)', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it('exposes failovers, master, readiness, reconnects, Sentinels and durable writes, and times a manual failover', async () => {
    const registry = new Registry();
    @Module({
      imports: [
        RedisSentinelModule.forRoot(sentinelOptions(topo)),
        RedisSentinelMetricsModule.forRoot({ registry }),
      ],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
    try {
      const clients = app.get(RedisClientsService);
      const redis = clients.get();
      const oldPort = (await topo.currentMasterPort())!;
      const sentinels = topo.sentinels.length;

      await vi.waitFor(
        async () =>
          expect(
            (await scrape(registry)).get('bastion_redis_sentinels_reachable'),
            'every Sentinel heard',
          ).toBe(sentinels),
        { timeout: 10_000, interval: 50 },
      );
      const boot = await scrape(registry);
      expect(boot.get('bastion_redis_failovers_total')).toBe(0);
      expect(boot.get(`bastion_redis_master_info{address="127.0.0.1:${oldPort}"}`)).toBe(1);
      expect(seriesMatching(boot, 'bastion_redis_master_info')).toHaveLength(1);
      expect(boot.get('bastion_redis_client_ready{client="default"}')).toBe(1);
      expect(boot.get('bastion_redis_reconnects_total{client="default"}')).toBe(0);
      expect(boot.get('bastion_redis_sentinels')).toBe(sentinels);
      expect(boot.get('bastion_redis_last_failover_seconds')).toBe(0);
      expect(boot.get('bastion_redis_failover_seconds_count')).toBe(0);
      expect(boot.get('bastion_redis_durable_writes_total{outcome="confirmed"}')).toBe(0);
      expect(seriesMatching(boot, 'bastion_redis_command_duration_seconds')).toEqual([]); // opt-in

      await durableWrite(redis, (p) => p.set('metrics:durable', '1'), { replicas: 1, timeoutMs: 1000 });
      // More replicas than exist: written, never confirmed.
      await expect(
        durableWrite(redis, (p) => p.set('metrics:durable', '2'), { replicas: 9, timeoutMs: 50 }),
      ).rejects.toBeInstanceOf(DurableWriteError);
      const written = await scrape(registry);
      expect(written.get('bastion_redis_durable_writes_total{outcome="confirmed"}')).toBe(1);
      expect(written.get('bastion_redis_durable_writes_total{outcome="unconfirmed"}')).toBe(1);
      expect(written.get('bastion_redis_durable_writes_total{outcome="refused"}')).toBe(0);

      await waitReplicasAttached(topo, oldPort, 1);
      await triggerFailoverWithRetry(topo);
      const newPort = await topo.waitForNewMaster(oldPort);
      await vi.waitFor(
        async () =>
          expect((await scrape(registry)).get('bastion_redis_failover_seconds_count'), 'failover timed').toBe(
            1,
          ),
        { timeout: 20_000, interval: 50 },
      );
      const after = await scrape(registry);
      expect(after.get('bastion_redis_failovers_total')).toBe(1);
      expect(after.get(`bastion_redis_master_info{address="127.0.0.1:${newPort}"}`)).toBe(1);
      expect(seriesMatching(after, 'bastion_redis_master_info')).toHaveLength(1);
      const seconds = after.get('bastion_redis_last_failover_seconds')!;
      // 0 only if the client was on the new master before the announcement reached the module.
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThan(20);
      expect(after.get('bastion_redis_failover_seconds_sum')).toBeCloseTo(seconds, 6);
      expect(after.get('bastion_redis_client_ready{client="default"}')).toBe(1);
      expect(after.get('bastion_redis_reconnects_total{client="default"}')).toBeGreaterThanOrEqual(1);
      console.log(`[metrics] failover timed at ${seconds.toFixed(3)} s`);

      const text = await registry.metrics();
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(SENTINEL_PASSWORD);
    } finally {
      await app.close();
    }
    // Removed with the module: a restarted module (tests, hot reload) registers them again.
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });

  it('connectionName picks a named instance; standalone mode has no Sentinel or failover series; commandDurations times commands', async () => {
    const registry = new Registry();
    const port = (await topo.currentMasterPort())!;
    @Module({
      imports: [
        RedisSentinelModule.forRoot({
          url: `redis://:${PASSWORD}@127.0.0.1:${port}`,
          connectionName: 'cache',
          clients: { store: 'master' },
        }),
        RedisSentinelMetricsModule.forRoot({ registry, connectionName: 'cache', commandDurations: true }),
      ],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
    const redis = app.get<RedisClientsService>(getRedisClientsServiceToken('cache')).get('store');
    try {
      // No series before the first timed command (the connection's own INFO may have been).
      const before =
        (await scrape(registry)).get('bastion_redis_command_duration_seconds_count{client="store"}') ?? 0;
      await redis.set('metrics:timed', '1');
      await redis.pipeline().get('metrics:timed').get('metrics:timed').exec();
      await redis.get('metrics:missing');
      const series = await scrape(registry);
      expect(series.get('bastion_redis_command_duration_seconds_count{client="store"}')).toBe(before + 4);
      expect(series.get('bastion_redis_command_duration_seconds_sum{client="store"}')).toBeGreaterThan(0);
      expect(series.get('bastion_redis_client_ready{client="store"}')).toBe(1);
      expect(series.get(`bastion_redis_master_info{address="127.0.0.1:${port}"}`)).toBe(1);
      expect(series.get('bastion_redis_failovers_total')).toBe(0);
      expect(seriesMatching(series, 'bastion_redis_sentinels')).toEqual([]);
      expect(seriesMatching(series, 'bastion_redis_failover_seconds')).toEqual([]);
      expect(await registry.metrics()).not.toContain(PASSWORD);
    } finally {
      await app.close();
    }
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    expect(Object.hasOwn(redis, 'sendCommand'), 'sendCommand unwrapped').toBe(false);
  });
});
