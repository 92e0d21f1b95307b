import { Inject, Injectable, type LoggerService, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import {
  getRedisClientsServiceToken,
  getRedisEventsToken,
  getRedisHealthIndicatorToken,
  getRedisToken,
  InjectRedis,
  InjectRedisClients,
  InjectRedisEvents,
  InjectRedisHealth,
  RedisClientsService,
  RedisSentinelConfigError,
  RedisSentinelEvents,
  RedisSentinelHealthIndicator,
  RedisSentinelModule,
} from '@bastion/redis-sentinel';
import type { RedisTopology } from '@bastion/redis-topology';
import { useTopology } from '../support/use-topology.js';
import { openHandles, sleep, waitForHandlesBack } from './support.js';

const SHUTDOWN_TIMEOUT_MS = 500;

// Two Sentinel groups with the SAME master name (two deployments that both kept "mymaster") and
// different passwords: nothing but the instance separates them. One Sentinel each is enough to
// fail over (quorum 1) and keeps the process count down.
const ALPHA = { password: 'alpha-data-pw', sentinelPassword: 'alpha-sentinel-pw' };
const BETA = { password: 'beta-data-pw', sentinelPassword: 'beta-sentinel-pw' };
const CACHE_PASSWORD = 'cache-pw';
const GROUP = { replicas: 1, sentinels: 1, quorum: 1 };

function sentinelGroup(topo: RedisTopology, secrets: typeof ALPHA) {
  return {
    sentinels: topo.sentinelList,
    masterName: topo.masterName,
    ...secrets,
    shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
  };
}

async function bastionConnections(topo: RedisTopology, port: number): Promise<string[]> {
  const list = await topo.command(topo.nodeByPort(port), 'CLIENT', 'LIST');
  return list
    .split('\n')
    .map((l) => /name=(\S*)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith('bastion:'));
}

class CapturingLogger implements LoggerService {
  readonly entries: Array<{ level: string; message: unknown; context: unknown }> = [];
  log(message: unknown, context?: unknown): void {
    this.entries.push({ level: 'log', message, context });
  }
  warn(message: unknown, context?: unknown): void {
    this.entries.push({ level: 'warn', message, context });
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.entries.push({ level: 'error', message, context: rest.at(-1) });
  }
}

describe('several RedisSentinelModule instances in one app (two Sentinel groups + a standalone cache)', () => {
  const alphaTopo = useTopology({ ...ALPHA, ...GROUP });
  const betaTopo = useTopology({ ...BETA, ...GROUP });
  const cacheTopo = useTopology({ password: CACHE_PASSWORD, replicas: 0, sentinels: 0 });

  /** Everything an app can inject, per instance. */
  @Injectable()
  class Consumer {
    constructor(
      // The default instance (no connectionName), injected exactly as before.
      @InjectRedis() readonly alpha: Redis,
      @Inject(RedisClientsService) readonly alphaClients: RedisClientsService,
      @Inject(RedisSentinelHealthIndicator) readonly alphaHealth: RedisSentinelHealthIndicator,
      @Inject(RedisSentinelEvents) readonly alphaEvents: RedisSentinelEvents,
      // connectionName 'beta'.
      @InjectRedis('default', 'beta') readonly beta: Redis,
      @InjectRedis('reads', 'beta') readonly betaReads: Redis,
      @InjectRedisClients('beta') readonly betaClients: RedisClientsService,
      @InjectRedisHealth('beta') readonly betaHealth: RedisSentinelHealthIndicator,
      @InjectRedisEvents('beta') readonly betaEvents: RedisSentinelEvents,
    ) {}
  }

  /** Uses the global 'cache' instance without importing it. */
  @Injectable()
  class CacheUser {
    constructor(
      @InjectRedis('default', 'cache') readonly cache: Redis,
      @InjectRedisClients('cache') readonly clients: RedisClientsService,
      @InjectRedisHealth('cache') readonly health: RedisSentinelHealthIndicator,
      @InjectRedisEvents('cache') readonly events: RedisSentinelEvents,
    ) {}
  }
  @Module({ providers: [CacheUser], exports: [CacheUser] })
  class CacheFeatureModule {}

  let app: TestingModule;
  let closed = false;
  let consumer: Consumer;
  let cacheUser: CacheUser;
  let handlesBefore: { sockets: number; timers: number };
  const logger = new CapturingLogger();

  beforeAll(async () => {
    handlesBefore = openHandles();
    app = await Test.createTestingModule({
      imports: [
        RedisSentinelModule.forRoot({ ...sentinelGroup(alphaTopo, ALPHA), clients: { default: 'master' } }),
        RedisSentinelModule.forRootAsync({
          connectionName: 'beta',
          clients: { default: 'master', reads: 'replica' },
          useFactory: () => sentinelGroup(betaTopo, BETA),
        }),
        RedisSentinelModule.forRootAsync({
          connectionName: 'cache',
          isGlobal: true,
          useFactory: () => ({
            url: `redis://127.0.0.1:${cacheTopo.master.port}/0`,
            password: CACHE_PASSWORD,
            shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
          }),
        }),
        CacheFeatureModule,
      ],
      providers: [Consumer],
    })
      .setLogger(logger)
      .compile();
    await app.init();
    consumer = app.get(Consumer);
    cacheUser = app.get(CacheUser);
  });

  afterAll(async () => {
    if (!closed) await app?.close();
  });

  it('gives each instance its own clients, services and events; writes land on its own master', async () => {
    const { alphaClients, betaClients } = consumer;
    // Injection by class still means the default instance, with named instances next to it.
    expect(app.get(RedisClientsService)).toBe(alphaClients);
    expect(app.get(RedisSentinelHealthIndicator)).toBe(consumer.alphaHealth);
    expect(app.get(getRedisToken())).toBe(consumer.alpha);
    expect(new Set([alphaClients, betaClients, cacheUser.clients]).size).toBe(3);
    expect(new Set([consumer.alphaEvents, consumer.betaEvents, cacheUser.events]).size).toBe(3);
    expect([alphaClients, betaClients, cacheUser.clients].map((c) => c.connectionName)).toEqual([
      'default',
      'beta',
      'cache',
    ]);
    expect(app.get(getRedisClientsServiceToken('beta'))).toBe(betaClients);
    expect(consumer.beta).toBe(betaClients.get());
    expect(cacheUser.cache).toBe(cacheUser.clients.get());

    expect(alphaClients.stats()).toMatchObject({
      mode: 'sentinel',
      currentMaster: `127.0.0.1:${alphaTopo.master.port}`,
    });
    expect(betaClients.stats()).toMatchObject({
      mode: 'sentinel',
      currentMaster: `127.0.0.1:${betaTopo.master.port}`,
    });
    expect(cacheUser.clients.stats()).toMatchObject({
      mode: 'standalone',
      currentMaster: `127.0.0.1:${cacheTopo.master.port}`,
    });
    expect(betaClients.stats().clients.find((c) => c.name === 'reads')?.address).toBe(
      `127.0.0.1:${betaTopo.replicas[0]!.port}`,
    );

    // One key, three instances: each value must be on its own server only.
    await consumer.alpha.set('several:who', 'alpha');
    await consumer.beta.set('several:who', 'beta');
    await cacheUser.cache.set('several:who', 'cache');
    expect(await alphaTopo.command(alphaTopo.master, 'GET', 'several:who')).toBe('alpha');
    expect(await betaTopo.command(betaTopo.master, 'GET', 'several:who')).toBe('beta');
    expect(await cacheTopo.command(cacheTopo.master, 'GET', 'several:who')).toBe('cache');
    await vi.waitFor(
      async () =>
        expect(
          (await consumer.betaReads.get('several:who')) === 'beta',
          'beta replica client reads the beta write',
        ).toBe(true),
      { timeout: 20_000, interval: 20 },
    );

    expect(await bastionConnections(alphaTopo, alphaTopo.master.port)).toEqual(['bastion:default']);
    expect((await bastionConnections(betaTopo, betaTopo.master.port)).toSorted()).toEqual([
      'bastion:default',
    ]);
    expect(await bastionConnections(betaTopo, betaTopo.replicas[0]!.port)).toEqual(['bastion:reads']);
    expect(await bastionConnections(cacheTopo, cacheTopo.master.port)).toEqual(['bastion:default']);

    // Logs of a named instance say which instance they are about.
    const readyContexts = logger.entries
      .filter((e) => (e.message as { event?: string })?.event === 'ready')
      .map((e) => e.context);
    expect(readyContexts.toSorted()).toEqual([
      'RedisSentinel',
      'RedisSentinel:beta',
      'RedisSentinel:beta',
      'RedisSentinel:cache',
    ]);
  });

  it('reports health per instance, each against its own group', async () => {
    const [a, b, c] = await Promise.all([
      consumer.alphaHealth.isHealthy('alpha'),
      consumer.betaHealth.isHealthy('beta'),
      cacheUser.health.isHealthy('cache'),
    ]);
    expect(a.alpha).toMatchObject({
      status: 'up',
      serverRole: 'master',
      address: `127.0.0.1:${alphaTopo.master.port}`,
      masterAddress: `127.0.0.1:${alphaTopo.master.port}`,
    });
    expect(b.beta).toMatchObject({
      status: 'up',
      serverRole: 'master',
      address: `127.0.0.1:${betaTopo.master.port}`,
      masterAddress: `127.0.0.1:${betaTopo.master.port}`,
    });
    expect(c.cache).toMatchObject({ status: 'up', address: `127.0.0.1:${cacheTopo.master.port}` });
    const replica = await consumer.betaHealth.isHealthy('reads', { client: 'reads' });
    expect(replica.reads).toMatchObject({ status: 'up', serverRole: 'slave' });
    // The default instance has no client "reads": its indicator does not fall through to beta's.
    expect((await consumer.alphaHealth.isHealthy('reads', { client: 'reads' })).reads.status).toBe('down');
  });

  it('SIGKILL of one group master: that instance follows the failover, the others keep serving undisturbed', async () => {
    const seen = { alphaSwitch: [] as unknown[], betaSwitch: [] as unknown[], disturbed: [] as string[] };
    consumer.alphaEvents.on('switch-master', (e) => seen.alphaSwitch.push(e));
    consumer.betaEvents.on('switch-master', (e) => seen.betaSwitch.push(e));
    consumer.betaEvents.on('reconnecting', (e) => seen.disturbed.push(`beta ${e.client} reconnecting`));
    consumer.betaEvents.on('error', (e) => seen.disturbed.push(`beta ${e.client}: ${e.error.message}`));
    cacheUser.events.on('reconnecting', (e) => seen.disturbed.push(`cache ${e.client} reconnecting`));
    cacheUser.events.on('error', (e) => seen.disturbed.push(`cache ${e.client}: ${e.error.message}`));

    const state = { running: true };
    const acked = {
      alpha: [] as Array<{ at: number; key: string }>,
      beta: [] as string[],
      cache: [] as string[],
    };
    const failures: string[] = [];
    const writeLoop = async (
      name: 'alpha' | 'beta' | 'cache',
      redis: Redis,
      onAck: (key: string) => void,
    ): Promise<void> => {
      let seq = 0;
      while (state.running) {
        const key = `several:${name}:${++seq}`;
        try {
          await redis.set(key, name);
          onAck(key);
        } catch (err) {
          if (name !== 'alpha') failures.push(`${name}: ${(err as Error).message}`);
        }
        await sleep(10);
      }
    };
    const loops = [
      writeLoop('alpha', consumer.alpha, (key) => acked.alpha.push({ at: Date.now(), key })),
      writeLoop('beta', consumer.beta, (key) => acked.beta.push(key)),
      writeLoop('cache', cacheUser.cache, (key) => acked.cache.push(key)),
    ];
    const oldAlphaPort = alphaTopo.master.port;
    const newAlphaPort = alphaTopo.replicas[0]!.port;
    try {
      await sleep(200);
      await alphaTopo.kill(alphaTopo.master);
      await vi.waitFor(
        () => expect(seen.alphaSwitch.length > 0, 'alpha instance sees +switch-master').toBe(true),
        { timeout: 20_000, interval: 20 },
      );
      const switchedAt = Date.now();
      await vi.waitFor(
        () =>
          expect(
            acked.alpha.some((a) => a.at > switchedAt),
            'an alpha write acknowledged after the switch',
          ).toBe(true),
        { timeout: 10_000, interval: 20 },
      );
      await sleep(300);
    } finally {
      state.running = false;
      await Promise.all(loops);
    }

    expect(seen.alphaSwitch).toEqual([
      expect.objectContaining({
        from: { host: '127.0.0.1', port: oldAlphaPort },
        to: { host: '127.0.0.1', port: newAlphaPort },
      }),
    ]);
    expect(consumer.alphaClients.stats()).toMatchObject({
      failoversSeen: 1,
      currentMaster: `127.0.0.1:${newAlphaPort}`,
    });
    const lastAlpha = acked.alpha.at(-1)!.key;
    expect(await alphaTopo.command(alphaTopo.nodeByPort(newAlphaPort), 'GET', lastAlpha)).toBe('alpha');

    // Beta and the cache never noticed: no failed write, no reconnect, no error, no switch.
    expect(failures).toEqual([]);
    expect(seen.disturbed).toEqual([]);
    expect(seen.betaSwitch).toEqual([]);
    expect(acked.beta.length).toBeGreaterThan(10);
    expect(acked.cache.length).toBeGreaterThan(10);
    expect(consumer.betaClients.stats()).toMatchObject({
      failoversSeen: 0,
      currentMaster: `127.0.0.1:${betaTopo.master.port}`,
    });
    for (const c of [...consumer.betaClients.stats().clients, ...cacheUser.clients.stats().clients]) {
      expect(c).toMatchObject({ status: 'ready', reconnects: 0, readyCount: 1 });
    }
    const onBeta = (await betaTopo.command(betaTopo.master, 'MGET', ...acked.beta)) as unknown as string[];
    expect(onBeta.every((v) => v === 'beta')).toBe(true);
    const onCache = (await cacheTopo.command(
      cacheTopo.master,
      'MGET',
      ...acked.cache,
    )) as unknown as string[];
    expect(onCache.every((v) => v === 'cache')).toBe(true);

    await vi.waitFor(
      async () =>
        expect(
          (await consumer.alphaHealth.isHealthy('alpha')).alpha.status === 'up',
          'alpha health up on the new master',
        ).toBe(true),
      { timeout: 20_000, interval: 20 },
    );
    expect((await consumer.alphaHealth.isHealthy('alpha')).alpha).toMatchObject({
      address: `127.0.0.1:${newAlphaPort}`,
      masterAddress: `127.0.0.1:${newAlphaPort}`,
    });
    expect((await consumer.betaHealth.isHealthy('beta')).beta).toMatchObject({
      status: 'up',
      address: `127.0.0.1:${betaTopo.master.port}`,
      masterAddress: `127.0.0.1:${betaTopo.master.port}`,
    });
  });

  it('app.close() closes every instance within their shutdown deadlines, even with a frozen master, and leaves no open handle', async () => {
    const betaMaster = betaTopo.master;
    const alphaMasterPort = consumer.alphaClients.currentMasterAddress()!.port;
    // A frozen master never answers QUIT: the beta instance needs its whole deadline.
    betaTopo.freeze(betaMaster);
    let elapsed: number;
    try {
      const started = Date.now();
      await app.close();
      closed = true;
      elapsed = Date.now() - started;
    } finally {
      betaTopo.thaw(betaMaster);
    }
    // Nest runs the instances' shutdown hooks one module after another: the bound is the sum.
    expect(elapsed).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(3 * SHUTDOWN_TIMEOUT_MS + 300);
    expect(await bastionConnections(alphaTopo, alphaMasterPort)).toEqual([]);
    expect(await bastionConnections(cacheTopo, cacheTopo.master.port)).toEqual([]);
    await vi.waitFor(
      async () =>
        expect(
          (await bastionConnections(betaTopo, betaMaster.port)).length === 0,
          'the frozen beta master sees the destroyed connection once it runs again',
        ).toBe(true),
      { timeout: 5000, interval: 20 },
    );
    await waitForHandlesBack(handlesBefore);
  });
});

async function compileError(...imports: unknown[]): Promise<unknown> {
  return Test.createTestingModule({ imports: imports as never[] })
    .compile()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
}

describe('connection names and tokens', () => {
  const standalone = { url: 'redis://127.0.0.1:1/0' };

  it('keeps the default instance tokens as they were and gives named instances tokens of their own', () => {
    expect(getRedisToken()).toBe('BASTION_REDIS_CLIENT:default');
    expect(getRedisToken('reads', 'default')).toBe('BASTION_REDIS_CLIENT:reads');
    expect(getRedisClientsServiceToken()).toBe(RedisClientsService);
    expect(getRedisHealthIndicatorToken('default')).toBe(RedisSentinelHealthIndicator);
    expect(getRedisEventsToken()).toBe(RedisSentinelEvents);

    const tokens = ['default', 'cache', 'beta'].flatMap((connection) => [
      getRedisToken('default', connection),
      getRedisToken('reads', connection),
      getRedisClientsServiceToken(connection),
      getRedisHealthIndicatorToken(connection),
      getRedisEventsToken(connection),
    ]);
    expect(new Set(tokens).size).toBe(tokens.length);
    // A default-instance client whose name looks like a named token still gets another token.
    expect(getRedisToken('cache:CLIENT:default')).not.toBe(getRedisToken('default', 'cache'));
  });

  it('fails at boot, before connecting, when two instances share a connectionName', async () => {
    @Module({ imports: [RedisSentinelModule.forRoot({ ...standalone, connectionName: 'cache' })] })
    class FeatureModule {}
    const err = await compileError(
      RedisSentinelModule.forRoot(standalone),
      RedisSentinelModule.forRootAsync({ connectionName: 'cache', useFactory: () => standalone }),
      FeatureModule,
    );
    expect(err).toBeInstanceOf(RedisSentinelConfigError);
    expect((err as Error).message).toContain(
      '2 RedisSentinelModule instances use connectionName "cache"; give each forRoot/forRootAsync its own connectionName',
    );
  });

  it('fails at boot when two instances have no connectionName (both would be the default)', async () => {
    const err = await compileError(
      RedisSentinelModule.forRoot(standalone),
      RedisSentinelModule.forRootAsync({ useFactory: () => standalone }),
    );
    expect(err).toBeInstanceOf(RedisSentinelConfigError);
    expect((err as Error).message).toContain(
      '2 RedisSentinelModule instances use the default connection (no connectionName)',
    );
  });

  it('refuses a connection name that could make tokens ambiguous', () => {
    expect(() => RedisSentinelModule.forRoot({ ...standalone, connectionName: 'a:b' })).toThrow(
      /connectionName is not a valid name \(got "a:b"\)/,
    );
    expect(() => RedisSentinelModule.forRoot({ ...standalone, connectionName: '' })).toThrow(
      RedisSentinelConfigError,
    );
  });
});
