import { inspect } from 'node:util';
import { Controller, Get, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import {
  DurableWriteError,
  durableWrite,
  InjectRedis,
  RedisClientNotFoundError,
  RedisClientsService,
  RedisSentinelEvents,
  RedisSentinelHealthIndicator,
  RedisSentinelModule,
} from '@bastion/redis-sentinel';
import { useTopology } from '../support/use-topology.js';
import { PASSWORD, PROTECTED_TOPOLOGY, SENTINEL_PASSWORD, sentinelOptions, startModule } from './support.js';

describe('RedisSentinelModule against a real Sentinel topology', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  async function bastionConnections(): Promise<string[]> {
    const list = await topo.command(topo.master, 'CLIENT', 'LIST');
    return list
      .split('\n')
      .map((l) => /name=(\S*)/.exec(l)?.[1] ?? '')
      .filter((n) => n.startsWith('bastion:'));
  }

  it('opens no connection before the application initialises, then injects named clients by role', async () => {
    @Injectable()
    class Jobs {
      constructor(
        @InjectRedis() readonly master: Redis,
        @InjectRedis('reads') readonly reads: Redis,
        @InjectRedis('events') readonly events: Redis,
      ) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisSentinelModule.forRootAsync({
          clients: { default: 'master', reads: 'replica', events: { role: 'subscriber' } },
          useFactory: async () => sentinelOptions(topo),
        }),
      ],
      providers: [Jobs],
    }).compile();
    expect(await bastionConnections()).toEqual([]);
    await moduleRef.init();
    try {
      const jobs = moduleRef.get(Jobs);
      const clients = moduleRef.get(RedisClientsService);
      expect(jobs.master).toBe(clients.get());
      expect(jobs.reads).toBe(clients.get('reads'));
      expect(clients.names()).toEqual(['default', 'reads', 'events']);
      expect(() => clients.get('nope')).toThrow(RedisClientNotFoundError);

      await jobs.master.set('module:k', 'v1');
      expect(((await jobs.master.call('ROLE')) as unknown[])[0]).toBe('master');
      expect(((await jobs.reads.call('ROLE')) as unknown[])[0]).toBe('slave');
      expect(clients.stats().clients.find((c) => c.name === 'reads')?.address).not.toBe(
        `127.0.0.1:${topo.master.port}`,
      );

      const received: string[] = [];
      jobs.events.on('message', (_c: string, m: string) => received.push(m));
      await jobs.events.subscribe('module:notify');
      await jobs.master.publish('module:notify', 'hello');
      await expect.poll(() => received).toEqual(['hello']);
      expect(clients.currentMasterAddress()).toEqual({ host: '127.0.0.1', port: topo.master.port });
    } finally {
      await moduleRef.close();
    }
    expect(await bastionConnections()).toEqual([]);
  });

  it('durableWrite returns the results when replicas acknowledge and throws DurableWriteError when too few do', async () => {
    const { moduleRef, clients } = await startModule(sentinelOptions(topo));
    try {
      const redis = clients.get();
      // Durable writes are refused until every Sentinel is heard: the boot waits for all of them
      // (CI once saw a durable write refused 22 ms after a boot that waited for one).
      expect(clients.stats().sentinelsHeard).toBe(topo.sentinels.length);
      const [id] = await durableWrite(redis, (p) => p.xadd('module:jobs', '*', 'job', '1'), {
        replicas: 2,
        timeoutMs: 1000,
      });
      expect(String(id)).toMatch(/^\d+-\d+$/);
      const started = Date.now();
      const err = await durableWrite(redis, (p) => p.set('module:durable', 'x'), {
        replicas: 3,
        timeoutMs: 200,
      }).catch((e) => e);
      expect(err).toBeInstanceOf(DurableWriteError);
      expect(err).toMatchObject({ requiredReplicas: 3, acknowledgedReplicas: 2 });
      expect(Date.now() - started).toBeLessThan(1500);
      // The write itself was applied; only its replication is not confirmed.
      expect(await redis.get('module:durable')).toBe('x');
    } finally {
      await moduleRef.close();
    }
  });

  it('emits typed events and serves a Terminus health endpoint without leaking a password', async () => {
    @Controller('health')
    class HealthController {
      constructor(
        private readonly health: HealthCheckService,
        private readonly redis: RedisSentinelHealthIndicator,
      ) {}
      @Get('ready')
      @HealthCheck()
      ready() {
        return this.health.check([() => this.redis.isHealthy('redis', { checkQuorum: true })]);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        TerminusModule,
        RedisSentinelModule.forRoot({ ...sentinelOptions(topo), clients: { default: 'master' } }),
      ],
      controllers: [HealthController],
    }).compile();
    const events = moduleRef.get(RedisSentinelEvents);
    const ready: unknown[] = [];
    events.on('ready', (e) => ready.push(e));
    await moduleRef.init();
    try {
      expect(ready).toEqual([
        expect.objectContaining({
          client: 'default',
          role: 'master',
          serverRole: 'master',
          address: { host: '127.0.0.1', port: topo.master.port },
        }),
      ]);
      const result = await moduleRef.get(HealthController).ready();
      expect(result.status).toBe('ok');
      expect(result.info?.redis).toMatchObject({
        status: 'up',
        serverRole: 'master',
        address: `127.0.0.1:${topo.master.port}`,
        masterAddress: `127.0.0.1:${topo.master.port}`,
        connectedReplicas: 2,
        quorum: 'ok',
      });
      const text = JSON.stringify(result) + JSON.stringify(moduleRef.get(RedisClientsService).stats());
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(SENTINEL_PASSWORD);
    } finally {
      await moduleRef.close();
    }
  });

  it('never hands the password to error listeners (ioredis attaches AUTH arguments to errors)', async () => {
    const wrong = 'wrong-password-0f9e8d';
    const { moduleRef } = await startModule({
      url: `redis://127.0.0.1:${topo.master.port}/0`,
      password: wrong,
      startupTimeoutMs: 0,
    });
    try {
      const errors: unknown[] = [];
      moduleRef.get(RedisSentinelEvents).on('error', (e) => errors.push(e.error));
      await vi.waitFor(() => expect(errors.length > 0, 'an authentication error event').toBe(true), {
        timeout: 10_000,
        interval: 20,
      });
      const seen = errors.map((e) => inspect(e, { depth: 5 }) + JSON.stringify(e)).join('\n');
      expect(seen).toMatch(/WRONGPASS|invalid (username-)?password/i);
      expect(seen).not.toContain(wrong);
    } finally {
      await moduleRef.close();
    }
  });

  it('durableWrite refuses a WAIT timeout of 0 (it would block the connection forever)', async () => {
    const { moduleRef, clients } = await startModule(sentinelOptions(topo));
    try {
      const redis: Redis = clients.get();
      await expect(durableWrite(redis, (p) => p.set('dw:zero', '1'), { timeoutMs: 0 })).rejects.toThrow(
        /timeoutMs must be a positive integer/,
      );
      await expect(durableWrite(redis, (p) => p.set('dw:zero', '1'), { replicas: 0 })).rejects.toThrow(
        /replicas must be an integer >= 1/,
      );
    } finally {
      await moduleRef.close();
    }
  });

  it('standalone mode (URL) offers the same API', async () => {
    const { moduleRef, clients } = await startModule({
      url: `redis://:${PASSWORD}@127.0.0.1:${topo.master.port}/0`,
    });
    try {
      await clients.get().set('module:standalone', '1');
      expect(await clients.get().get('module:standalone')).toBe('1');
      expect(clients.stats()).toMatchObject({
        mode: 'standalone',
        currentMaster: `127.0.0.1:${topo.master.port}`,
      });
      expect(JSON.stringify(clients.stats())).not.toContain(PASSWORD);
    } finally {
      await moduleRef.close();
    }
  });

  it('on READONLY (a master client on a replica) rejects the write without resending it, reconnects, and reports down', async () => {
    // Standalone mode pointed at a replica stands in for "still connected to a demoted master".
    const replica = topo.replicas[0]!;
    const { moduleRef, clients } = await startModule({
      host: '127.0.0.1',
      port: replica.port,
      password: PASSWORD,
    });
    try {
      const redis = clients.get();
      const rejectedSets = async () =>
        Number(
          /cmdstat_set:.*rejected_calls=(\d+)/.exec(
            await topo.command(replica, 'INFO', 'commandstats'),
          )?.[1] ?? 0,
        );
      const rejectedBefore = await rejectedSets();
      const before = clients.stats().clients[0]!.reconnects;
      await expect(redis.set('module:readonly', '1')).rejects.toThrow(/^READONLY/);
      await vi.waitFor(
        () => expect(clients.stats().clients[0]!.reconnects > before, 'reconnect after READONLY').toBe(true),
        { timeout: 5000, interval: 20 },
      );
      await vi.waitFor(() => expect(redis.status === 'ready', 'ready again').toBe(true), {
        timeout: 20_000,
        interval: 20,
      });
      await redis.ping();
      // Sent once, never resent after the reconnect.
      expect((await rejectedSets()) - rejectedBefore).toBe(1);
      const health = await moduleRef.get(RedisSentinelHealthIndicator).isHealthy('redis');
      expect(health.redis).toMatchObject({ status: 'down', serverRole: 'slave' });
    } finally {
      await moduleRef.close();
    }
  });

  it('verifies the master role with ROLE when the ACL denies INFO', async () => {
    for (const node of topo.dataNodes) {
      await topo.command(node, 'ACL', 'SETUSER', 'app', 'on', '>app-pw', '~*', '&*', '+@all', '-info');
    }
    // ioredis warns once that it skips its INFO-based ready check; that is the case under test.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisSentinelModule.forRoot({ ...sentinelOptions(topo), username: 'app', password: 'app-pw' }),
      ],
    }).compile();
    const ready: unknown[] = [];
    moduleRef.get(RedisSentinelEvents).on('ready', (e) => ready.push(e));
    await moduleRef.init();
    try {
      const redis = moduleRef.get(RedisClientsService).get();
      await expect(redis.info()).rejects.toThrow(/NOPERM/);
      await expect
        .poll(() => ready)
        .toEqual([expect.objectContaining({ client: 'default', serverRole: 'master' })]);
      await redis.set('module:acl', '1');
    } finally {
      await moduleRef.close();
      warn.mockRestore();
    }
  });

  it('a replica client reads from the master while no replica is healthy, then moves back', async () => {
    const { moduleRef, clients } = await startModule(
      sentinelOptions(topo, { replicaRecheckIntervalMs: 300 }),
      {
        clients: { default: 'master', reads: 'replica' },
      },
    );
    const health = moduleRef.get(RedisSentinelHealthIndicator);
    const reads = clients.get('reads');
    const roleOf = async () => String(((await reads.call('ROLE')) as unknown[])[0]);
    try {
      expect(await roleOf()).toBe('slave');
      for (const replica of topo.replicas) await topo.kill(replica);
      await vi.waitFor(
        async () => expect((await roleOf()) === 'master', 'reads served by the master').toBe(true),
        { timeout: 20_000, interval: 20 },
      );
      expect(clients.stats().clients.find((c) => c.name === 'reads')?.servingFromMaster).toBe(true);
      expect((await health.isHealthy('redis', { client: 'reads' })).redis).toMatchObject({
        status: 'degraded',
        message: 'no healthy replica; reading from the master',
      });

      for (const replica of topo.replicas) await topo.restart(replica);
      await vi.waitFor(
        async () => expect((await roleOf()) === 'slave', 'reads back on a replica').toBe(true),
        { timeout: 30_000, interval: 20 },
      );
      expect(clients.stats().clients.find((c) => c.name === 'reads')?.servingFromMaster).toBe(false);
      await vi.waitFor(
        async () =>
          expect(
            (await health.isHealthy('redis', { client: 'reads' })).redis.status === 'up',
            'replica health up',
          ).toBe(true),
        { timeout: 20_000, interval: 20 },
      );
    } finally {
      await moduleRef.close();
    }
  });
});
