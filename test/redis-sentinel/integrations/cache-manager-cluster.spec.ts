import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Cache } from 'cache-manager';
import type { Cluster } from 'ioredis';
import { Keyv } from 'keyv';
import { getRedisToken, isRedisUnavailableError, RedisClusterModule } from '@bastion/redis-sentinel';
import { RedisKeyvStore } from '@bastion/redis-sentinel/keyv';
import type { RedisClusterNode } from '@bastion/redis-topology';
import { timed } from '../../support/timed.js';
import { useCluster } from '../../support/use-cluster.js';
import { CLUSTER_PASSWORD, clusterOptions, keysPerMaster } from '../cluster-support.js';

const COMMAND_TIMEOUT_MS = 1000;

interface CacheApp {
  moduleRef: TestingModule;
  cache: Cache;
  redis: Cluster;
}

describe('@nestjs/cache-manager on RedisKeyvStore over RedisClusterModule', () => {
  const cluster = useCluster({ password: CLUSTER_PASSWORD });
  let app: CacheApp | undefined;

  afterEach(async () => {
    await app?.moduleRef.close();
    app = undefined;
  });

  /** The app under test: a `reads` replica client, the cache on Keyv + RedisKeyvStore (namespace `cache`). */
  async function startCacheApp(): Promise<CacheApp> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisClusterModule.forRoot({
          ...clusterOptions(cluster, { commandTimeoutMs: COMMAND_TIMEOUT_MS }),
          isGlobal: true,
          clients: { default: 'master', reads: 'replica' },
        }),
        CacheModule.registerAsync({
          inject: [getRedisToken(), getRedisToken('reads')],
          useFactory: (redis: Cluster, reads: Cluster) => ({
            stores: [
              new Keyv({ store: new RedisKeyvStore(redis, { readClient: reads }), namespace: 'cache' }),
            ],
          }),
        }),
      ],
    }).compile();
    await moduleRef.init();
    return { moduleRef, cache: moduleRef.get<Cache>(CACHE_MANAGER), redis: moduleRef.get(getRedisToken()) };
  }

  /**
   * `CLUSTER SLOTS` lists a replica only once its replication offset is not 0, i.e. after the
   * first write (or the first replication PING, 10 s) since it synced: until then a `replica`
   * client has no replica to read from. A write per shard, then every node must list them.
   */
  async function waitReplicasInSlotMap(): Promise<void> {
    for (const { key, master } of await keysPerMaster(cluster, 'warm:', 1)) {
      await cluster.command(master, 'SET', key, '1');
    }
    await cluster.waitUntil(
      async () => {
        const maps = await Promise.all(
          cluster.reachableNodes().map((n) => cluster.command<unknown[][]>(n, 'CLUSTER', 'SLOTS')),
        );
        return maps.every((ranges) => ranges.every((range) => range.length > 3));
      },
      'every node lists a replica for every slot range',
      10_000,
    );
  }

  /** Cache keys (without the `cache:` namespace) whose Redis keys spread `perMaster` per master. */
  async function cacheKeys(prefix: string, perMaster: number) {
    const keys = await keysPerMaster(cluster, `cache:${prefix}`, perMaster);
    return keys.map(({ key, master }) => ({ key: key.slice('cache:'.length), redisKey: key, master }));
  }

  /** The commands the `bastion:reads` connections ran on `nodes` (CLIENT LIST `cmd=`). */
  async function readsCommands(nodes: RedisClusterNode[]): Promise<string[]> {
    const lists = await Promise.all(nodes.map((n) => cluster.command(n, 'CLIENT', 'LIST')));
    return lists.flatMap((list) =>
      list
        .split('\n')
        .filter((line) => line.includes(' name=bastion:reads '))
        .map((line) => /\bcmd=(\S+)/.exec(line)?.[1] ?? ''),
    );
  }

  it('multi-key get/set/delete, TTLs and clear() work with keys on every shard; reads go to the replicas', async () => {
    await waitReplicasInSlotMap();
    app = await startCacheApp();
    const { cache, redis } = app;
    const keys = await cacheKeys('item:', 2);
    const masters = await cluster.masters();
    const replicas = (await Promise.all(masters.map((m) => cluster.replicasOf(m)))).flat();
    expect(new Set(keys.map((k) => k.master))).toEqual(new Set(masters));

    // setMany across shards, each key on the master that owns its slot, with its TTL.
    await cache.mset(keys.map(({ key }, i) => ({ key, value: { i }, ttl: 10_000 })));
    for (const [i, { redisKey, master }] of keys.entries()) {
      expect(JSON.parse(await cluster.command(master, 'GET', redisKey))).toMatchObject({ value: { i } });
      const pttl = Number(await cluster.command(master, 'PTTL', redisKey));
      expect(pttl).toBeGreaterThan(8000);
      expect(pttl).toBeLessThanOrEqual(10_000);
    }

    // getMany across slots (one MGET per slot: a single MGET would be refused with CROSSSLOT), in
    // order, with a miss in the middle; served by the replicas once replicated.
    const wanted = [...keys.map((k) => k.key).slice(0, 3), 'missing', ...keys.map((k) => k.key).slice(3)];
    const expected = [0, 1, 2, undefined, 3, 4, 5].map((i) => (i === undefined ? undefined : { i }));
    await vi.waitFor(async () => expect(await cache.mget(wanted)).toEqual(expected), {
      timeout: 5000,
      interval: 20,
    });
    expect(await readsCommands(replicas)).toContain('mget');
    expect(await cache.get(keys[5]!.key)).toEqual({ i: 5 });
    expect(await readsCommands(replicas)).toContain('get');
    expect(await readsCommands(masters)).not.toContain('mget');

    // deleteMany across shards.
    expect(await cache.mdel(keys.slice(0, 3).map((k) => k.key))).toBe(true);
    for (const { redisKey, master } of keys.slice(0, 3)) {
      expect(await cluster.command(master, 'EXISTS', redisKey)).toBe(0);
    }

    // clear(): scans every master (keys of the namespace live on all three), spares other keys.
    const others = await keysPerMaster(cluster, 'other:', 1);
    for (const { key, master } of others) await cluster.command(master, 'SET', key, 'keep');
    const small = new Keyv({ store: new RedisKeyvStore(redis, { clearBatchSize: 2 }), namespace: 'cache' });
    await small.setMany(Array.from({ length: 30 }, (_, i) => ({ key: `bulk:${i}`, value: i })));
    await cache.clear();
    for (const master of masters) {
      expect(await cluster.command(master, 'KEYS', 'cache:*'), master.name).toEqual([]);
    }
    for (const { key, master } of others) expect(await cluster.command(master, 'GET', key)).toBe('keep');

    // The same through a store with small SCAN steps.
    await small.setMany(Array.from({ length: 30 }, (_, i) => ({ key: `bulk:${i}`, value: i })));
    await small.clear();
    for (const master of masters) expect(await cluster.command(master, 'KEYS', 'cache:*')).toEqual([]);
    for (const { key, master } of others) await cluster.command(master, 'DEL', key);
  });

  // Last: it kills a shard master.
  it('a shard master SIGKILLed: misses (errors with throwOnErrors) within the deadline, replica reads still hit, then the cache answers on the promoted replica', async () => {
    app = await startCacheApp();
    const { cache, redis } = app;
    const onMaster = new Keyv({ store: new RedisKeyvStore(redis), namespace: 'cache' });
    const throwing = new Keyv({ store: new RedisKeyvStore(redis), namespace: 'cache', throwOnErrors: true });
    const keys = await cacheKeys('kill:', 1);
    // A hash tag per master: cache keys `{tag}:...` live on that master's slot.
    const tags = await keysPerMaster(cluster, 'tag', 1);
    await cache.mset(keys.map(({ key }) => ({ key, value: 'before' })));
    const { key: victimKey, master: victim } = keys[0]!;
    const victimTag = tags.find((t) => t.master === victim)!.key;
    // Replicated: the reads client reads it from the victim's replica.
    await vi.waitFor(async () => expect(await cache.get(victimKey)).toBe('before'), {
      timeout: 5000,
      interval: 20,
    });

    const killedAt = Date.now();
    await cluster.kill(victim);
    // Before the cluster has even flagged the node as failed (cluster-node-timeout 1 s).
    const [viaReplica, viaMaster, thrown] = await Promise.all([
      timed(() => cache.get(victimKey)),
      timed(() => onMaster.get(victimKey)),
      timed(() => throwing.get(victimKey)),
    ]);
    console.log(
      `[cache cluster kill] replica get ${viaReplica.ms} ms -> ${String(viaReplica.value)}; master get ${viaMaster.ms} ms -> ${String(viaMaster.value)}; throwOnErrors ${thrown.ms} ms -> ${(thrown.error as Error)?.message}`,
    );
    expect(viaReplica.value).toBe('before');
    // Keyv swallows the store error: a miss, not a hang.
    expect(viaMaster.error).toBeUndefined();
    expect(viaMaster.value).toBeUndefined();
    expect(viaMaster.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1000);
    // With throwOnErrors the error comes through, one that RedisUnavailableFilter answers with 503.
    expect(isRedisUnavailableError(thrown.error), String(thrown.error)).toBe(true);
    expect(thrown.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1000);

    const promoted = await cluster.waitForPromotion(victim);
    const promotedAt = Date.now();
    let attempt = 0;
    await vi.waitFor(
      async () => {
        const key = `{${victimTag}}:${++attempt}`;
        await cache.set(key, attempt);
        expect(await cache.get(key)).toBe(attempt);
      },
      { timeout: 10_000, interval: 20 },
    );
    const answeredAt = Date.now();
    console.log(
      `[cache cluster kill] promotion seen ${promotedAt - killedAt} ms after SIGKILL; cache set+get on the promoted master ${answeredAt - promotedAt} ms after it (${attempt} attempts)`,
    );
    expect(answeredAt - promotedAt).toBeLessThan(5000);
    expect(await cluster.command(promoted, 'EXISTS', `cache:{${victimTag}}:${attempt}`)).toBe(1);
    // Written before the kill and replicated: it survived the failover; the other shards too.
    expect(await throwing.get(victimKey)).toBe('before');
    expect(await cache.mget(keys.map((k) => k.key))).toEqual(keys.map(() => 'before'));
  });
});
