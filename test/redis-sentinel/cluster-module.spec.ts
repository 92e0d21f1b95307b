import { inspect } from 'node:util';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { Cluster, Redis } from 'ioredis';
import {
  DurableWriteCrossSlotError,
  durableCall,
  durableWrite,
  InjectRedis,
  InjectRedisClusterClients,
  InjectRedisClusterEvents,
  InjectRedisClusterHealth,
  RedisClusterClientsService,
  RedisClusterEvents,
  RedisClusterHealthIndicator,
  RedisClusterModule,
  RedisSentinelConfigError,
  RedisSentinelModule,
  RedisSentinelStartupError,
} from '@bastion/redis-sentinel';
import { freePort } from '@bastion/redis-topology';
import { useCluster } from '../support/use-cluster.js';
import { CLUSTER_PASSWORD, clusterOptions, keyPerMaster, startClusterModule } from './cluster-support.js';

@Injectable()
class UsesCluster {
  constructor(
    @InjectRedis() readonly writes: Cluster,
    @InjectRedis('reads') readonly reads: Cluster,
  ) {}
}

describe('RedisClusterModule on a real cluster (3 masters x 1 replica, password)', () => {
  const cluster = useCluster({ password: CLUSTER_PASSWORD });

  it('boots; @InjectRedis gives a Cluster that writes and reads on every shard; stats and health show no password', async () => {
    @Module({
      imports: [
        RedisClusterModule.forRoot({
          ...clusterOptions(cluster),
          clients: { default: 'master', reads: 'replica' },
        }),
      ],
      providers: [UsesCluster],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule, TerminusModule] }).compile();
    await moduleRef.init();
    try {
      const { writes, reads } = moduleRef.get(UsesCluster);
      expect(writes).toBeInstanceOf(Cluster);
      expect(reads).toBeInstanceOf(Cluster);
      expect(reads.options.scaleReads).toBe('slave');
      const keys = await keyPerMaster(cluster, 'boot:');
      for (const { key, master } of keys) {
        expect(await writes.set(key, `v-${key}`)).toBe('OK');
        // The key lives on the master that owns its slot (asked directly, not through the client).
        expect(await cluster.command(master, 'GET', key)).toBe(`v-${key}`);
        await writes.call('WAIT', 1, 1000);
        expect(await reads.get(key)).toBe(`v-${key}`);
      }
      // A command with keys on two slots is refused by Redis, not split.
      await expect(writes.mget(keys[0]!.key, keys[1]!.key)).rejects.toThrow(/CROSSSLOT|same slot/);

      const health = await moduleRef.get(RedisClusterHealthIndicator).isHealthy('redis');
      expect(health.redis).toMatchObject({ status: 'up', mode: 'cluster', masters: 3, replicas: 3 });
      const shards = health.redis.shards as Array<{ master: string; replicas: string[]; slotRanges: number }>;
      expect(shards).toHaveLength(3);
      for (const shard of shards) {
        expect(shard.replicas).toHaveLength(1);
        expect(shard.slotRanges).toBeGreaterThanOrEqual(1);
      }
      expect(JSON.stringify(health)).not.toContain(CLUSTER_PASSWORD);
    } finally {
      await moduleRef.close();
    }
  });

  it('reports stats shaped like the Sentinel ones, never with the password', async () => {
    const app = await startClusterModule(clusterOptions(cluster));
    try {
      await app.clients.get().set('stats:key', '1');
      const stats = app.clients.stats();
      expect(stats).toMatchObject({
        mode: 'cluster',
        seedNodes: 6,
        failoversSeen: 0,
        durableWrites: { confirmed: 0, unconfirmed: 0, refused: 0 },
        clients: [{ name: 'default', role: 'master', status: 'ready', masters: 3, readyCount: 1 }],
      });
      for (const shown of [
        JSON.stringify(stats),
        JSON.stringify(app.clients),
        inspect(app.clients, { depth: 8 }),
      ]) {
        expect(shown).not.toContain(CLUSTER_PASSWORD);
      }
    } finally {
      await app.moduleRef.close();
    }
  });

  it('durableWrite: confirmed on every shard; a pipeline over two slots is refused with the hash-tag hint', async () => {
    const app = await startClusterModule(clusterOptions(cluster));
    try {
      const redis = app.clients.get();
      const keys = await keyPerMaster(cluster, 'durable:');
      for (const { key } of keys) {
        const results = await durableWrite(redis, (p) =>
          p.set(key, 'd').incr(`{${key}}:n`).set(`${key}`, 'd2'),
        );
        expect(results).toEqual(['OK', 1, 'OK']);
        expect(await durableCall(redis, () => redis.set(key, 'c'), { key })).toBe('OK');
      }
      const crossSlot = durableWrite(redis, (p) => p.set(keys[0]!.key, '1').set(keys[1]!.key, '2'));
      await expect(crossSlot).rejects.toBeInstanceOf(DurableWriteCrossSlotError);
      await expect(crossSlot).rejects.toThrow(/hash tag/);
      // Nothing was sent: the first key still has its value.
      expect(await redis.get(keys[0]!.key)).toBe('c');
      await expect(durableCall(redis, () => redis.set('x', '1'))).rejects.toThrow(/options\.key/);
      expect(app.clients.stats().durableWrites).toEqual({ confirmed: 6, unconfirmed: 0, refused: 1 });
      // Two replicas cannot acknowledge: each shard has one.
      await expect(
        durableWrite(redis, (p) => p.set(keys[0]!.key, 'x'), { replicas: 2, timeoutMs: 100 }),
      ).rejects.toThrow(/1 of 2 required replica/);
      expect(app.clients.stats().durableWrites.unconfirmed).toBe(1);
    } finally {
      await app.moduleRef.close();
    }
  });

  it('fails the startup at once on a refused password, and after startupTimeoutMs without any node, never showing the password', async () => {
    const started = Date.now();
    const refused = await startClusterModule(clusterOptions(cluster, { password: 'wrong-cluster-pw' })).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(RedisSentinelStartupError);
    expect((refused as RedisSentinelStartupError).permanent).toBe(true);
    expect((refused as Error).message).toMatch(/refused the password/);
    expect((refused as Error).message).not.toContain('wrong-cluster-pw');
    expect(Date.now() - started).toBeLessThan(5000);

    const port = await freePort();
    const none = await startClusterModule({ nodes: `127.0.0.1:${port}`, startupTimeoutMs: 500 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(none).toBeInstanceOf(RedisSentinelStartupError);
    expect((none as Error).message).toMatch(/not ready within 500 ms/);
  });

  it('a Sentinel module and a Cluster module in one app need distinct connection names', async () => {
    const both = Test.createTestingModule({
      imports: [
        RedisSentinelModule.forRoot({ host: '127.0.0.1', port: cluster.nodes[0]!.port, startupTimeoutMs: 0 }),
        RedisClusterModule.forRoot(clusterOptions(cluster)),
      ],
    }).compile();
    await expect(both).rejects.toBeInstanceOf(RedisSentinelConfigError);
    await expect(both).rejects.toThrow(/instances .*use the default connection/);

    @Injectable()
    class UsesBoth {
      constructor(
        @InjectRedis('default', 'shards') readonly shards: Cluster,
        @InjectRedis() readonly standalone: Redis,
        @InjectRedisClusterClients('shards') readonly clients: RedisClusterClientsService,
        @InjectRedisClusterHealth('shards') readonly health: RedisClusterHealthIndicator,
        @InjectRedisClusterEvents('shards') readonly events: RedisClusterEvents,
      ) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisSentinelModule.forRoot({
          host: '127.0.0.1',
          port: cluster.nodes[0]!.port,
          password: CLUSTER_PASSWORD,
        }),
        RedisClusterModule.forRoot({ ...clusterOptions(cluster), connectionName: 'shards' }),
      ],
      providers: [UsesBoth],
    }).compile();
    await moduleRef.init();
    try {
      const { shards, standalone, clients, health, events } = moduleRef.get(UsesBoth);
      expect(shards).toBeInstanceOf(Cluster);
      expect(standalone).toBeInstanceOf(Redis);
      expect(standalone).not.toBeInstanceOf(Cluster);
      expect(await shards.set('named:key', '1')).toBe('OK');
      expect(clients.get()).toBe(shards);
      expect(clients.connectionName).toBe('shards');
      expect(events).toBe(clients.events);
      expect((await health.isHealthy('redis')).redis.status).toBe('up');
    } finally {
      await moduleRef.close();
    }
  });
});
