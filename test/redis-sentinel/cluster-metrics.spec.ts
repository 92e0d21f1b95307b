import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import {
  DurableWriteCrossSlotError,
  DurableWriteError,
  durableWrite,
  RedisClusterClientsService,
  RedisClusterModule,
  RedisSentinelModule,
} from '@bastion/redis-sentinel';
import { RedisClusterMetricsModule, RedisSentinelMetricsModule } from '@bastion/redis-sentinel/metrics';
import { scrape, seriesMatching } from '../support/prometheus-text.js';
import { useCluster } from '../support/use-cluster.js';
import { CLUSTER_PASSWORD, clusterOptions, keysPerMaster, sleep, startIncrLoad } from './cluster-support.js';

describe('@bastion/redis-sentinel/metrics: RedisClusterMetricsModule on a real cluster', () => {
  const cluster = useCluster({ password: CLUSTER_PASSWORD });

  it('a Sentinel-module instance and a Cluster instance: a registry each, or a clear error when they share one', async () => {
    const master = (await cluster.masters())[0]!;
    const imports = (sentinelRegistry: Registry, clusterRegistry: Registry) => [
      RedisClusterModule.forRoot(clusterOptions(cluster)),
      RedisSentinelModule.forRoot({
        url: `redis://:${CLUSTER_PASSWORD}@127.0.0.1:${master.port}`,
        connectionName: 'cache',
      }),
      RedisSentinelMetricsModule.forRoot({ registry: sentinelRegistry, connectionName: 'cache' }),
      RedisClusterMetricsModule.forRoot({ registry: clusterRegistry }),
    ];
    const shared = new Registry();
    const failed = await Test.createTestingModule({ imports: imports(shared, shared) })
      .compile()
      .then(async (moduleRef) => {
        try {
          await moduleRef.init();
          return undefined;
        } catch (err) {
          return err as Error;
        } finally {
          await moduleRef.close();
        }
      });
    expect(failed?.message).toMatch(/already holds the bastion_redis_\* metrics.*a registry of its own/);

    const sentinelRegistry = new Registry();
    const clusterRegistry = new Registry();
    const moduleRef = await Test.createTestingModule({
      imports: imports(sentinelRegistry, clusterRegistry),
    }).compile();
    await moduleRef.init();
    try {
      const standalone = await scrape(sentinelRegistry);
      const clustered = await scrape(clusterRegistry);
      expect(standalone.get(`bastion_redis_master_info{address="127.0.0.1:${master.port}"}`)).toBe(1);
      expect(seriesMatching(standalone, 'bastion_redis_cluster_')).toEqual([]);
      expect(clustered.get('bastion_redis_cluster_slots_covered')).toBe(16_384);
      expect(seriesMatching(clustered, 'bastion_redis_master_info')).toHaveLength(3);
      // Both instances have a client "default": each registry has its own series for it.
      expect(clustered.get('bastion_redis_client_ready{client="default"}')).toBe(1);
      expect(standalone.get('bastion_redis_client_ready{client="default"}')).toBe(1);
    } finally {
      await moduleRef.close();
    }
    expect(await clusterRegistry.getMetricsAsJSON()).toEqual([]);
    expect(await sentinelRegistry.getMetricsAsJSON()).toEqual([]);
  });

  it('durable writes, command durations, a SIGKILLed master (failovers, failover seconds, masters), a resharding (not a failover), then every node down and back (ready 0, then 1)', async () => {
    const registry = new Registry();
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisClusterModule.forRoot(clusterOptions(cluster, { commandTimeoutMs: 3000 })),
        RedisClusterMetricsModule.forRoot({ registry, commandDurations: true }),
      ],
    }).compile();
    await moduleRef.init();
    const redis = moduleRef.get(RedisClusterClientsService).get();
    const keys = await keysPerMaster(cluster, 'metrics:', 1);
    const load = startIncrLoad(redis, keys);
    try {
      const boot = await scrape(registry);
      const masters = await cluster.masters();
      expect(boot.get('bastion_redis_failovers_total')).toBe(0);
      expect(boot.get('bastion_redis_client_ready{client="default"}')).toBe(1);
      expect(boot.get('bastion_redis_reconnects_total{client="default"}')).toBe(0);
      expect(boot.get('bastion_redis_cluster_slots_covered')).toBe(16_384);
      expect(seriesMatching(boot, 'bastion_redis_master_info').toSorted()).toEqual(
        masters.map((m) => `bastion_redis_master_info{address="127.0.0.1:${m.port}"}`).toSorted(),
      );
      expect(boot.get('bastion_redis_cluster_failover_seconds_count')).toBe(0);
      expect(boot.get('bastion_redis_cluster_last_failover_seconds')).toBe(0);
      expect(boot.get('bastion_redis_durable_writes_total{outcome="confirmed"}')).toBe(0);

      // Durable writes: one confirmed; one asking more replicas than exist, written, never confirmed;
      await durableWrite(redis, (p) => p.set('{metrics}:durable', '1'), { replicas: 1, timeoutMs: 1000 });
      await expect(
        durableWrite(redis, (p) => p.set('{metrics}:durable', '2'), { replicas: 9, timeoutMs: 50 }),
      ).rejects.toBeInstanceOf(DurableWriteError);
      // Keys on two slots: refused before anything is sent.
      await expect(
        durableWrite(redis, (p) => p.set('{metrics}:a', '1').set('{other}:b', '1')),
      ).rejects.toBeInstanceOf(DurableWriteCrossSlotError);
      const written = await scrape(registry);
      expect(written.get('bastion_redis_durable_writes_total{outcome="confirmed"}')).toBe(1);
      expect(written.get('bastion_redis_durable_writes_total{outcome="unconfirmed"}')).toBe(1);
      expect(written.get('bastion_redis_durable_writes_total{outcome="refused"}')).toBe(1);

      // Command durations: each command once, a pipeline's commands each, whatever the load does meanwhile.
      await load.stop();
      const before = (await scrape(registry)).get(
        'bastion_redis_command_duration_seconds_count{client="default"}',
      )!;
      expect(before, 'the load and the durable writes were timed').toBeGreaterThan(0);
      await redis.set('{metrics}:timed', '1');
      await redis.pipeline().get('{metrics}:timed').get('{metrics}:timed').exec();
      await redis.get('{metrics}:missing');
      const timed = await scrape(registry);
      expect(timed.get('bastion_redis_command_duration_seconds_count{client="default"}')).toBe(before + 4);

      // A shard master SIGKILLed under load: one failover, timed from the first failing sign.
      const load2 = startIncrLoad(redis, keys);
      const victim = keys[0]!.master;
      let promotedPort: number;
      try {
        await sleep(200);
        const killedAt = performance.now();
        await cluster.kill(victim);
        promotedPort = (await cluster.waitForPromotion(victim)).port;
        await vi.waitFor(
          async () =>
            expect(
              (await scrape(registry)).get('bastion_redis_cluster_failover_seconds_count'),
              'failover timed',
            ).toBe(1),
          { timeout: 10_000, interval: 50 },
        );
        const upperBound = (performance.now() - killedAt) / 1000;
        const after = await scrape(registry);
        const seconds = after.get('bastion_redis_cluster_last_failover_seconds')!;
        console.log(`[cluster metrics] failover timed at ${seconds.toFixed(3)} s (cluster-node-timeout 1 s)`);
        // From the first sign of the dead node (at the kill) to the new owner: the node timeout and
        // the election, at most the time since the kill.
        expect(seconds).toBeGreaterThan(0.5);
        expect(seconds).toBeLessThanOrEqual(upperBound);
        expect(after.get('bastion_redis_cluster_failover_seconds_sum')).toBeCloseTo(seconds, 6);
        expect(after.get('bastion_redis_failovers_total')).toBe(1);
        expect(after.get('bastion_redis_cluster_slot_owner_changes_total')).toBe(1);
        await vi.waitFor(
          async () => {
            const series = await scrape(registry);
            expect(series.get(`bastion_redis_master_info{address="127.0.0.1:${promotedPort}"}`)).toBe(1);
            expect(
              series.get(`bastion_redis_master_info{address="127.0.0.1:${victim.port}"}`),
            ).toBeUndefined();
            expect(seriesMatching(series, 'bastion_redis_master_info')).toHaveLength(3);
            expect(series.get('bastion_redis_cluster_slots_covered')).toBe(16_384);
          },
          { timeout: 5000, interval: 50 },
        );
        expect(after.get('bastion_redis_client_ready{client="default"}')).toBe(1);
      } finally {
        await load2.stop();
      }

      // A resharding moves a slot between two serving masters: an owner change, not a failover.
      const [, { key, master: from }, { master: to }] = keys as [unknown, (typeof keys)[0], (typeof keys)[0]];
      await cluster.migrateSlots(from, to, [cluster.slotOf(key)]);
      await redis.get(key); // MOVED: the client reloads its slot map
      await vi.waitFor(
        async () =>
          expect((await scrape(registry)).get('bastion_redis_cluster_slot_owner_changes_total')).toBe(2),
        { timeout: 5000, interval: 50 },
      );
      expect((await scrape(registry)).get('bastion_redis_failovers_total')).toBe(1);
      expect((await scrape(registry)).get('bastion_redis_cluster_failover_seconds_count')).toBe(1);

      // Every node gone: the client is not ready (and has no slot map), then back once they return.
      const alive = cluster.nodes.filter((n) => n !== victim);
      await Promise.all(alive.map((n) => cluster.kill(n)));
      await vi.waitFor(
        async () => {
          const series = await scrape(registry);
          expect(series.get('bastion_redis_client_ready{client="default"}')).toBe(0);
          expect(series.get('bastion_redis_cluster_slots_covered')).toBe(0);
          expect(seriesMatching(series, 'bastion_redis_master_info')).toEqual([]);
        },
        { timeout: 10_000, interval: 50 },
      );
      for (const node of cluster.nodes) await cluster.restart(node);
      await cluster.waitClusterOk();
      await vi.waitFor(
        async () => {
          const series = await scrape(registry);
          expect(series.get('bastion_redis_client_ready{client="default"}')).toBe(1);
          expect(series.get('bastion_redis_cluster_slots_covered')).toBe(16_384);
        },
        { timeout: 20_000, interval: 100 },
      );
      expect(await registry.metrics()).not.toContain(CLUSTER_PASSWORD);
    } finally {
      await load.stop();
      await moduleRef.close();
    }
    // Removed with the module: a restarted module registers them again.
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });
});
