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

describe('cluster: manual CLUSTER FAILOVER under a write load', () => {
  const cluster = useCluster({ password: CLUSTER_PASSWORD });

  it('follows the MOVED redirects to the promoted replica: no write fails, none is lost or applied twice', async () => {
    const app = await startClusterModule(clusterOptions(cluster), {
      clients: { default: 'master', reads: 'replica' },
    });
    const redis = app.clients.get();
    const reads = app.clients.get('reads');
    const moves: Array<{ from: string | undefined; to: string }> = [];
    app.moduleRef.get(RedisClusterEvents).on('slot-owner-change', (e) => moves.push(e));
    const keys = await keysPerMaster(cluster, 'manual:', 2);
    const load = startIncrLoad(redis, keys);
    const oldMaster = keys[0]!.master;
    try {
      await sleep(300);
      const [replica] = await cluster.replicasOf(oldMaster);
      const startedAt = Date.now();
      await cluster.manualFailover(replica!);
      const promotedAt = Date.now();
      await vi.waitFor(
        () =>
          expect(
            load.writers
              .filter((w) => w.master === oldMaster)
              .every((w) => w.ackTimes.some((t) => t > promotedAt)),
          ).toBe(true),
        { timeout: 10_000, interval: 10 },
      );
      await sleep(300);
      await load.stop();
      console.log(
        `[cluster manual failover] replica reported master ${promotedAt - startedAt} ms after CLUSTER FAILOVER`,
      );
      for (const writer of load.writers) {
        expect(writer.failures, writer.key).toEqual([]);
        // Coordinated failover: every acknowledged INCR is there, exactly once.
        expect(Number(await redis.get(writer.key)), writer.key).toBe(writer.acked);
        expect(
          Number(await reads.get(writer.key)),
          `${writer.key} through the replica client`,
        ).toBeLessThanOrEqual(writer.acked);
      }
      await vi.waitFor(
        () =>
          expect(moves).toContainEqual(
            expect.objectContaining({
              from: `127.0.0.1:${oldMaster.port}`,
              to: `127.0.0.1:${replica!.port}`,
              promotion: true,
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
