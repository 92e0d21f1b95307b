import type { Redis } from 'ioredis';
import { RedisSentinelHealthIndicator, RedisSentinelUnavailableError } from '@bastion/redis-sentinel';
import { useTopology } from '../support/use-topology.js';
import { PROTECTED_TOPOLOGY, SENTINEL_PASSWORD, sentinelOptions, startModule } from './support.js';

describe('Sentinels unavailable', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it('works with one Sentinel down (the first one listed), and follows a failover', async () => {
    const [first] = topo.sentinels;
    await topo.kill(first!);
    // `sentinelList` lists the dead Sentinel first: the client must skip it.
    const app = await startModule(sentinelOptions(topo));
    try {
      const redis: Redis = app.clients.get();
      await redis.set('one-down', '1');
      expect(await redis.get('one-down')).toBe('1');
      const health = await app.moduleRef.get(RedisSentinelHealthIndicator).isHealthy('redis');
      expect(health.redis.status).toBe('up');

      const oldPort = topo.master.port;
      await topo.triggerFailover();
      const newPort = await topo.waitForNewMaster(oldPort);
      await vi.waitFor(
        async () =>
          expect(
            (await redis.set('one-down', '2')) === 'OK' &&
              app.clients.stats().clients[0]!.address === `127.0.0.1:${newPort}`,
            'writes on the new master',
          ).toBe(true),
        { timeout: 20_000, interval: 20 },
      );
    } finally {
      await app.moduleRef.close();
      await topo.restart(first!);
    }
  });

  it('with every Sentinel down: commands fail fast with a clear error, health answers in time, and the client recovers', async () => {
    const app = await startModule(
      sentinelOptions(topo, { commandTimeoutMs: 5000, sentinelRetryMaxDelayMs: 500 }),
    );
    const redis: Redis = app.clients.get();
    const health = app.moduleRef.get(RedisSentinelHealthIndicator);
    try {
      await redis.set('all-down', '1');
      for (const s of topo.sentinels) await topo.kill(s);

      // The master still serves; the indicator says it cannot verify it.
      const h0 = Date.now();
      const degraded = await health.isHealthy('redis', { timeoutMs: 500 });
      expect(Date.now() - h0).toBeLessThan(900);
      expect(degraded.redis).toMatchObject({ status: 'degraded' });

      // Force a reconnect: the client must ask a Sentinel, and none answers.
      const connectedPort = Number(app.clients.stats().clients[0]!.address!.split(':')[1]);
      const masterNode = topo.nodeByPort(connectedPort);
      await topo.command(masterNode, 'CLIENT', 'KILL', 'TYPE', 'normal');
      await vi.waitFor(() => expect(redis.status !== 'ready', 'client noticed the disconnect').toBe(true), {
        timeout: 5000,
        interval: 20,
      });

      const c0 = Date.now();
      const err = await redis.get('all-down').catch((e: unknown) => e);
      const waited = Date.now() - c0;
      expect(err).toBeInstanceOf(RedisSentinelUnavailableError);
      expect((err as Error).message).toMatch(/No Sentinel could name the master "mymaster"/);
      expect((err as Error).message).not.toContain(SENTINEL_PASSWORD);
      // Fails well before the 5 s command timeout.
      expect(waited).toBeLessThan(2500);

      for (const s of topo.sentinels) await topo.restart(s);
      await vi.waitFor(
        async () =>
          expect(
            (await redis.get('all-down')) === '1',
            // The client's state, for a failure under load: status, address, last error.
            `client recovers when the Sentinels return: ${JSON.stringify(app.clients.stats().clients[0])}`,
          ).toBe(true),
        { timeout: 15_000, interval: 20 },
      );
      expect(redis.status).toBe('ready');
    } finally {
      await app.moduleRef.close();
    }
  });
});
