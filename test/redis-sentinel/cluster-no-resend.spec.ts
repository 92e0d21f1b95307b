import { useCluster } from '../support/use-cluster.js';
import {
  CLUSTER_PASSWORD,
  clusterOptions,
  keysPerMaster,
  sleep,
  startClusterModule,
  startIncrLoad,
} from './cluster-support.js';

describe('cluster: connections killed by the servers under a write load (CLIENT KILL)', () => {
  const cluster = useCluster({ password: CLUSTER_PASSWORD });

  it('never resends a command lost with its connection: no INCR is applied twice, none acknowledged is lost', async () => {
    const app = await startClusterModule(clusterOptions(cluster));
    const redis = app.clients.get();
    const keys = await keysPerMaster(cluster, 'resend:', 2);
    const masters = [...new Set(keys.map((k) => k.master))];
    const load = startIncrLoad(redis, keys);
    let kills = 0;
    try {
      await sleep(200);
      // An INCR applied in the same event-loop turn as the kill loses its reply: the client sees
      // "Connection is closed." for a command that WAS applied. Resending it would apply it twice.
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        for (const master of masters) {
          kills += Number(await cluster.command(master, 'CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'));
        }
        await sleep(3);
      }
      await sleep(300);
      await load.stop();
      let lostReplies = 0;
      for (const writer of load.writers) {
        const final = Number(await redis.get(writer.key));
        lostReplies += final - writer.acked;
        expect(
          final,
          `${writer.key}: acknowledged ${writer.acked}, failed ${writer.failed}`,
        ).toBeLessThanOrEqual(writer.acked + writer.failed);
        expect(final, writer.key).toBeGreaterThanOrEqual(writer.acked);
        for (const failure of writer.failures)
          expect(failure.message).toMatch(/Connection is closed|timed out/);
      }
      const failed = load.writers.reduce((n, w) => n + w.failed, 0);
      console.log(
        `[cluster no-resend] ${kills} connections killed; ${failed} INCRs failed, of which ${lostReplies} had been applied (reply lost)`,
      );
      expect(kills).toBeGreaterThan(10);
      expect(failed).toBeGreaterThan(0);
    } finally {
      await load.stop();
      await app.moduleRef.close();
    }
  });
});
