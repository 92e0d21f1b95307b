import { RedisClusterEvents } from '@bastion/redis-sentinel';
import { useCluster } from '../support/use-cluster.js';
import {
  CLUSTER_PASSWORD,
  clusterOptions,
  keysPerMaster,
  sleep,
  startClusterModule,
  startIncrLoad,
} from './cluster-support.js';

describe('cluster: slots migrated to another master under a write load (resharding)', () => {
  const cluster = useCluster({ password: CLUSTER_PASSWORD });

  it('follows the redirects (ASK while a slot moves, MOVED after): no write fails, none is lost or applied twice, the owner change is seen', async () => {
    const app = await startClusterModule(clusterOptions(cluster));
    const redis = app.clients.get();
    const moves: Array<{ from: string | undefined; to: string; slots: number }> = [];
    app.moduleRef.get(RedisClusterEvents).on('slot-owner-change', (e) => moves.push(e));
    const keys = await keysPerMaster(cluster, 'reshard:', 4);
    const load = startIncrLoad(redis, keys);
    try {
      await sleep(300);
      const [from, to] = [keys[0]!.master, keys.at(-1)!.master];
      const moving = keys.filter((k) => k.master === from).map((k) => cluster.slotOf(k.key));
      await cluster.migrateSlots(from, to, moving);
      for (const slot of moving)
        expect(await cluster.masterForKey(keys.find((k) => cluster.slotOf(k.key) === slot)!.key)).toBe(to);
      const migratedAt = Date.now();
      await vi.waitFor(
        () => expect(load.writers.every((w) => w.ackTimes.some((t) => t > migratedAt))).toBe(true),
        { timeout: 5000, interval: 10 },
      );
      await sleep(300);
      await load.stop();
      for (const writer of load.writers) {
        expect(writer.failures, writer.key).toEqual([]);
        expect(Number(await redis.get(writer.key)), writer.key).toBe(writer.acked);
      }
      // Each moved key now lives on the target master (asked directly).
      for (const { key } of keys.filter((k) => k.master === from)) {
        expect(Number(await cluster.command(to, 'GET', key))).toBeGreaterThan(0);
      }
      await vi.waitFor(
        () =>
          expect(moves).toContainEqual(
            expect.objectContaining({
              from: `127.0.0.1:${from.port}`,
              to: `127.0.0.1:${to.port}`,
              // Between two serving masters: not a failover.
              promotion: false,
            }),
          ),
        { timeout: 7000, interval: 50 },
      );
    } finally {
      await load.stop();
      await app.moduleRef.close();
    }
  });
});
