import type { Redis } from 'ioredis';
import { DurableWriteError, durableWrite, RedisSentinelHealthIndicator } from '@bastion/redis-sentinel';
import { useTopology } from '../support/use-topology.js';
import { PROTECTED_TOPOLOGY, sentinelOptions, sleep, startModule, waitReplicasAttached } from './support.js';

const FAILOVERS = 3;

describe('manual SENTINEL FAILOVER', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it(`follows ${FAILOVERS} failovers and loses no acknowledged durable write`, async () => {
    const app = await startModule(sentinelOptions(topo));
    const redis: Redis = app.clients.get();
    const health = app.moduleRef.get(RedisSentinelHealthIndicator);
    const state = { running: true };
    const acked: string[] = [];
    let unconfirmed = 0;
    let failed = 0;
    let seq = 0;
    const loop = (async () => {
      while (state.running) {
        try {
          const [id] = await durableWrite(redis, (p) => p.xadd('manual:jobs', '*', 'n', String(++seq)), {
            replicas: 1,
            timeoutMs: 500,
          });
          acked.push(String(id));
        } catch (err) {
          if (err instanceof DurableWriteError) unconfirmed++;
          else failed++;
        }
        await sleep(5);
      }
    })();
    try {
      let port = await topo.currentMasterPort();
      for (let i = 0; i < FAILOVERS; i++) {
        await waitReplicasAttached(topo, port!, 1);
        // Sentinel refuses (NOGOODSLAVE) until it sees a replica of the new master: retry.
        await vi.waitFor(() => topo.triggerFailover(), { timeout: 20_000, interval: 20 });
        port = await topo.waitForNewMaster(port!);
        const newAddress = `127.0.0.1:${port}`;
        await vi.waitFor(
          () =>
            expect(app.clients.stats().clients[0]!.address === newAddress, 'client on the new master').toBe(
              true,
            ),
          { timeout: 5000, interval: 20 },
        );
        const before = acked.length;
        await vi.waitFor(
          () => expect(acked.length > before + 20, 'durable writes resume on the new master').toBe(true),
          { timeout: 20_000, interval: 20 },
        );
      }
      await vi.waitFor(
        async () =>
          expect((await health.isHealthy('redis')).redis.status === 'up', 'health up after failovers').toBe(
            true,
          ),
        { timeout: 20_000, interval: 20 },
      );
      state.running = false;
      await loop;
      const entries = (await redis.xrange('manual:jobs', '-', '+')).map(([id]) => id);
      const present = new Set(entries);
      const lost = acked.filter((id) => !present.has(id));
      console.log(
        `[manual] ${FAILOVERS} failovers: ${acked.length} durable writes acknowledged, ${lost.length} lost, ${unconfirmed} unconfirmed, ${failed} failed`,
      );
      expect(acked.length).toBeGreaterThan(FAILOVERS * 20);
      expect(lost).toEqual([]);
      expect(app.clients.stats().failoversSeen).toBe(FAILOVERS);
    } finally {
      state.running = false;
      await loop;
      await app.moduleRef.close();
    }
  });

  it('without the pub/sub watcher, the topology poll still moves the client within seconds', async () => {
    const app = await startModule(
      sentinelOptions(topo, { failoverWatcher: false, topologyCheckIntervalMs: 200 }),
    );
    try {
      const redis: Redis = app.clients.get();
      await redis.set('manual:poll', '1');
      let port = (await topo.currentMasterPort())!;
      await waitReplicasAttached(topo, port, 1);
      await vi.waitFor(() => topo.triggerFailover(), { timeout: 20_000, interval: 20 });
      port = await topo.waitForNewMaster(port);
      const agreedAt = Date.now();
      // Well before Sentinel demotes the old master (about 8 s), which would also move the client.
      await vi.waitFor(
        () =>
          expect(
            app.clients.stats().clients[0]!.address === `127.0.0.1:${port}`,
            'client on the new master',
          ).toBe(true),
        { timeout: 3000, interval: 20 },
      );
      console.log(`[manual/poll] client moved ${Date.now() - agreedAt} ms after the Sentinels agreed`);
      expect(app.clients.stats().failoversSeen).toBe(1);
      await redis.set('manual:poll', '2');
    } finally {
      await app.moduleRef.close();
    }
  });
});
