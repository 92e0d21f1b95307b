import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Cache } from 'cache-manager';
import type { Redis } from 'ioredis';
import { Keyv } from 'keyv';
import {
  getRedisToken,
  isRedisUnavailableError,
  RedisClientsService,
  RedisSentinelModule,
  type RedisSentinelModuleOptions,
} from '@bastion/redis-sentinel';
import { RedisKeyvStore } from '@bastion/redis-sentinel/keyv';
import type { RedisTopology } from '@bastion/redis-topology';
import { timed } from '../../support/timed.js';
import { useTopology } from '../../support/use-topology.js';
import {
  PROTECTED_TOPOLOGY,
  sentinelOptions,
  startModule,
  waitReplicasAttached,
  watchSwitchMaster,
} from '../support.js';

const COMMAND_TIMEOUT_MS = 1000;

interface CacheApp {
  moduleRef: TestingModule;
  cache: Cache;
  clients: RedisClientsService;
}

/** The app under test: a `reads` replica client, and the cache on Keyv + RedisKeyvStore (namespace `cache`). */
async function startCacheApp(topo: RedisTopology, extra: RedisSentinelModuleOptions = {}): Promise<CacheApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      RedisSentinelModule.forRoot({
        ...sentinelOptions(topo, extra),
        isGlobal: true,
        clients: { default: 'master', reads: 'replica' },
      }),
      CacheModule.registerAsync({
        inject: [getRedisToken(), getRedisToken('reads')],
        useFactory: (redis: Redis, reads: Redis) => ({
          stores: [new Keyv({ store: new RedisKeyvStore(redis, { readClient: reads }), namespace: 'cache' })],
        }),
      }),
    ],
  }).compile();
  await moduleRef.init();
  return {
    moduleRef,
    cache: moduleRef.get<Cache>(CACHE_MANAGER),
    clients: moduleRef.get(RedisClientsService),
  };
}

/** The `CLIENT LIST` line of the connection named `bastion:<name>` on a node, if any. */
async function clientLine(topo: RedisTopology, port: number, name: string): Promise<string | undefined> {
  const list = await topo.command(topo.nodeByPort(port), 'CLIENT', 'LIST');
  return list.split('\n').find((line) => line.includes(` name=bastion:${name} `));
}

function portOf(address: string | undefined): number {
  return Number(address?.split(':')[1]);
}

describe('@nestjs/cache-manager on RedisKeyvStore', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);
  let app: CacheApp | undefined;

  afterEach(async () => {
    await app?.moduleRef.close();
    app = undefined;
  });

  it('stores in Redis under the namespace, reads through the replica client, clear() deletes the namespace only', async () => {
    app = await startCacheApp(topo);
    const { cache, clients } = app;
    const master = topo.master;

    const before = Date.now();
    await cache.set('user:1', { name: 'Ada' }, 10_000);
    const raw = await topo.command(master, 'GET', 'cache:user:1');
    expect(JSON.parse(raw)).toMatchObject({ value: { name: 'Ada' } });
    const pttl = Number(await topo.command(master, 'PTTL', 'cache:user:1'));
    expect(pttl).toBeGreaterThan(8000);
    expect(pttl).toBeLessThanOrEqual(10_000);

    // Reads go to the replica client: wait for replication, then look at the replica's connection.
    const reads = clients.stats().clients.find((c) => c.name === 'reads')!;
    expect(reads.servingFromMaster).toBe(false);
    const replicaPort = portOf(reads.address);
    expect(topo.replicas.map((r) => r.port)).toContain(replicaPort);
    await vi.waitFor(async () => expect(await cache.get('user:1')).toEqual({ name: 'Ada' }), {
      timeout: 5000,
      interval: 20,
    });
    expect(await clientLine(topo, replicaPort, 'reads')).toMatch(/ cmd=get /);
    const expires = await cache.ttl('user:1');
    expect(expires).toBeGreaterThan(before + 8000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 10_000);
    expect(await clientLine(topo, replicaPort, 'reads')).toMatch(/ cmd=get /);

    expect(await cache.del('user:1')).toBe(true);
    expect(await topo.command(master, 'EXISTS', 'cache:user:1')).toBe(0);
    expect(await clientLine(topo, master.port, 'default')).toMatch(/ cmd=unlink /);

    // clear(): only `cache:*`; a key of another namespace or one sharing the prefix without ':' survives.
    await cache.mset([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    await topo.command(master, 'SET', 'other:a', 'keep');
    await topo.command(master, 'SET', 'cachex', 'keep');
    expect(await topo.command(master, 'EXISTS', 'cache:a', 'cache:b')).toBe(2);
    await cache.clear();
    expect(await topo.command(master, 'EXISTS', 'cache:a', 'cache:b')).toBe(0);
    expect(await topo.command(master, 'MGET', 'other:a', 'cachex')).toEqual(['keep', 'keep']);
    await topo.command(master, 'DEL', 'other:a', 'cachex');
  });

  it('RedisKeyvStore edge cases: getMany, has, deleteMany, ttl in ms, clear without a namespace or with glob characters', async () => {
    const { moduleRef, clients } = await startModule(sentinelOptions(topo));
    try {
      const redis = clients.get();
      const store = new RedisKeyvStore(redis);
      store.namespace = 'edge';

      expect(await store.getMany([])).toEqual([]);
      await store.set('edge:k1', 'v1');
      await store.set('edge:obj', { n: 1 }, 1500.2);
      expect(await store.getMany(['edge:k1', 'edge:missing', 'edge:obj'])).toEqual([
        'v1',
        undefined,
        '{"n":1}',
      ]);
      expect(await store.get('edge:missing')).toBeUndefined();
      expect(Number(await redis.pttl('edge:k1'))).toBe(-1);
      const pttl = Number(await redis.pttl('edge:obj'));
      expect(pttl).toBeGreaterThan(1000);
      expect(pttl).toBeLessThanOrEqual(1501);
      await store.set('edge:zero', 'z', 0);
      expect(Number(await redis.pttl('edge:zero'))).toBe(-1);

      expect(await store.has('edge:k1')).toBe(true);
      expect(await store.has('edge:missing')).toBe(false);

      expect(await store.deleteMany([])).toBe(false);
      expect(await store.deleteMany(['edge:missing'])).toBe(false);
      expect(await store.deleteMany(['edge:k1', 'edge:missing'])).toBe(true);
      expect(await redis.exists('edge:k1')).toBe(0);
      expect(await store.delete('edge:k1')).toBe(false);

      await store.setMany([
        { key: 'edge:m1', value: 'a' },
        { key: 'edge:m2', value: 'b', ttl: 60_000 },
      ]);
      expect(await redis.mget('edge:m1', 'edge:m2')).toEqual(['a', 'b']);

      // SCAN in small steps still deletes every key of the namespace.
      const small = new RedisKeyvStore(redis, { clearBatchSize: 2 });
      small.namespace = 'edge';
      await redis.mset(...Array.from({ length: 25 }, (_, i) => [`edge:bulk:${i}`, '1']).flat());
      await small.clear();
      expect(await redis.keys('edge:*')).toEqual([]);

      // A namespace with glob characters matches literally.
      const globby = new RedisKeyvStore(redis);
      globby.namespace = 'g*';
      await redis.mset('g*:1', '1', 'gX:1', 'keep');
      await globby.clear();
      expect(await redis.mget('g*:1', 'gX:1')).toEqual([null, 'keep']);
      await redis.del('gX:1');

      const bare = new RedisKeyvStore(redis);
      await redis.set('bare', 'keep');
      await expect(bare.clear()).rejects.toThrow(
        'RedisKeyvStore.clear(): no namespace, so it would delete every key of the database; give Keyv a namespace',
      );
      expect(await redis.get('bare')).toBe('keep');
      await redis.del('bare');

      // Keyv without a namespace option sets `keyv`, so clear() through Keyv is always bounded.
      const keyv = new Keyv({ store: new RedisKeyvStore(redis) });
      await keyv.set('x', 1);
      await redis.set('notkeyv', 'keep');
      await keyv.clear();
      expect(await redis.exists('keyv:x')).toBe(0);
      expect(await redis.get('notkeyv')).toBe('keep');
      await redis.del('notkeyv');
    } finally {
      await moduleRef.close();
    }
  });

  it('answers again soon after a SIGKILL failover (set then get of a fresh key)', async () => {
    app = await startCacheApp(topo);
    const { cache } = app;
    const observer = await watchSwitchMaster(topo);
    try {
      await cache.set('before', 'b');
      await vi.waitFor(async () => expect(await cache.get('before')).toBe('b'), {
        timeout: 5000,
        interval: 20,
      });
      const killedAt = Date.now();
      await topo.kill(topo.master);
      await observer.firstSwitch();
      const { at: switchAt, to: newPort } = observer.switches[0]!;
      let attempt = 0;
      let answeredAt = 0;
      await vi.waitFor(
        async () => {
          const key = `fresh:${++attempt}`;
          await cache.set(key, attempt);
          expect(await cache.get(key)).toBe(attempt);
          answeredAt = Date.now();
        },
        { timeout: 15_000, interval: 20 },
      );
      console.log(
        `[cache kill] switch ${switchAt - killedAt} ms after SIGKILL; cache set+get of a fresh key answered ${answeredAt - switchAt} ms after +switch-master (${attempt} attempts)`,
      );
      // Loose bound (2 cores, other suites running).
      expect(answeredAt - switchAt).toBeLessThan(5000);
      expect(await topo.command(topo.nodeByPort(newPort), 'GET', `cache:fresh:${attempt}`)).toContain(
        String(attempt),
      );
      // The value written before the failover survived it (it had reached the replica).
      expect(await cache.get('before')).toBe('b');
      // The next test needs the surviving replica attached to the new master.
      await waitReplicasAttached(topo, newPort, 1);
    } finally {
      observer.close();
    }
  });

  // Runs after the SIGKILL failover on purpose: Sentinel starts no second failover of the same
  // master within 2 x failover-timeout (8 s), so the frozen master stays the master while we look.
  it('while the master is frozen (SIGSTOP, before any switch): gets answer within a bound, reads from the replica still hit', async () => {
    app = await startCacheApp(topo, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
    const observer = await watchSwitchMaster(topo);
    const redis = app.clients.get();
    const onMaster = new Keyv({ store: new RedisKeyvStore(redis), namespace: 'cache' });
    const throwing = new Keyv({ store: new RedisKeyvStore(redis), namespace: 'cache', throwOnErrors: true });
    const oldMaster = topo.nodeByPort((await topo.currentMasterPort())!);
    // After the previous test's failover a replica may still be resyncing: the replica client then
    // reads from the master until its recheck finds a healthy replica.
    await vi.waitFor(
      () =>
        expect(app!.clients.stats().clients.find((c) => c.name === 'reads')?.servingFromMaster).toBe(false),
      { timeout: 20_000, interval: 50 },
    );
    try {
      await app.cache.set('warm', 'w');
      await vi.waitFor(async () => expect(await app!.cache.get('warm')).toBe('w'), {
        timeout: 5000,
        interval: 20,
      });

      topo.freeze(oldMaster);
      const frozenAt = Date.now();
      const [viaReplica, viaMaster, thrown, set] = await Promise.all([
        timed(() => app!.cache.get('warm')),
        timed(() => onMaster.get('warm')),
        timed(() => throwing.get('warm')),
        timed(() => app!.cache.set('during-freeze', 'x')),
      ]);
      // A late Sentinel may still echo the previous switch (to the frozen node itself): not a move.
      const switchedBefore = observer.switches.some(
        (s) => s.to !== oldMaster.port && s.at <= frozenAt + Math.max(viaMaster.ms, thrown.ms),
      );
      console.log(
        `[cache frozen] replica get ${viaReplica.ms} ms -> ${String(viaReplica.value)}; master get ${viaMaster.ms} ms -> ${String(viaMaster.value)}; throwOnErrors get ${thrown.ms} ms -> ${(thrown.error as Error)?.name}: ${(thrown.error as Error)?.message}; set ${set.ms} ms -> ${String(set.value)} / ${(set.error as Error)?.message}; switch before the answers: ${switchedBefore}`,
      );
      expect(switchedBefore, 'the answers came before any switch away from the frozen master').toBe(false);
      // The replica still serves (stale-tolerant) reads.
      expect(viaReplica.value).toBe('w');
      expect(viaReplica.ms).toBeLessThan(500);
      // Keyv swallows the store error: a miss, not a hang and not an error.
      expect(viaMaster.error).toBeUndefined();
      expect(viaMaster.value).toBeUndefined();
      expect(viaMaster.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1000);
      // With throwOnErrors the error comes through, and it is one the 503 filter recognises.
      expect(isRedisUnavailableError(thrown.error)).toBe(true);
      expect(thrown.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1000);
      // A set is bounded too (Keyv swallows its error as well; cache-manager answers the value).
      expect(set.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1000);
    } finally {
      topo.thaw(oldMaster);
      observer.close();
    }
    // Thawed, the master answers the cache again.
    await vi.waitFor(
      async () => {
        await app!.cache.set('after-thaw', 't');
        expect(await topo.command(oldMaster, 'GET', 'cache:after-thaw')).toContain('"t"');
      },
      { timeout: 10_000, interval: 50 },
    );
  });
});
