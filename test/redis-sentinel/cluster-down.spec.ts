import { durableWrite, isRedisUnavailableError, RedisClusterHealthIndicator } from '@bastion/redis-sentinel';
import { useCluster } from '../support/use-cluster.js';
import { CLUSTER_PASSWORD, clusterOptions, keyPerMaster, startClusterModule } from './cluster-support.js';

const COMMAND_TIMEOUT_MS = 1000;
const HEALTH_TIMEOUT_MS = 300;

describe('cluster health (up, degraded, down) and a shard with no node left (CLUSTERDOWN)', () => {
  const cluster = useCluster({ password: CLUSTER_PASSWORD });

  it('up, then degraded when a replica dies, then down with fast failing commands when a whole shard is gone', async () => {
    const app = await startClusterModule(clusterOptions(cluster, { commandTimeoutMs: COMMAND_TIMEOUT_MS }));
    const redis = app.clients.get();
    const health = app.moduleRef.get(RedisClusterHealthIndicator);
    const check = async () => {
      const started = Date.now();
      const result = (await health.isHealthy('redis', { timeoutMs: HEALTH_TIMEOUT_MS })).redis;
      // Whatever the nodes do, the answer comes within the timeout (plus scheduling slack).
      expect(Date.now() - started).toBeLessThan(HEALTH_TIMEOUT_MS + 200);
      expect(JSON.stringify(result)).not.toContain(CLUSTER_PASSWORD);
      return result;
    };
    try {
      const keys = await keyPerMaster(cluster, 'down:');
      for (const { key } of keys) await redis.set(key, '1');
      expect(await check()).toMatchObject({ status: 'up', masters: 3, replicas: 3 });

      // A replica dies: its master still serves, but one more failure would stop the shard.
      const degradedShard = keys[1]!.master;
      const [replica] = await cluster.replicasOf(degradedShard);
      await cluster.kill(replica!);
      await vi.waitFor(async () => expect((await check()).status).toBe('degraded'), {
        timeout: 10_000,
        interval: 100,
      });
      expect(String((await check()).message)).toContain(
        `master 127.0.0.1:${degradedShard.port} has no connected replica`,
      );
      expect(await redis.set(keys[1]!.key, '2')).toBe('OK');

      // A whole shard goes (master and replica): its slots have no node, the cluster reports fail.
      const goneShard = keys[0]!.master;
      const [goneReplica] = await cluster.replicasOf(goneShard);
      await cluster.kill(goneReplica!);
      await cluster.kill(goneShard);
      await cluster.waitUntil(
        async () => (await cluster.clusterInfo(keys[2]!.master)).cluster_state === 'fail',
        'the surviving masters report cluster_state:fail',
        20_000,
      );
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const error = await redis.set(keys[0]!.key, 'x').then(
          () => undefined,
          (err: Error) => err,
        );
        const ms = Date.now() - started;
        expect(error, 'a write to the shard without nodes').toBeInstanceOf(Error);
        expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + 500);
        // RedisUnavailableFilter answers 503 + Retry-After for it.
        expect(isRedisUnavailableError(error), error!.message).toBe(true);
      }
      // cluster-require-full-coverage yes (the default): the surviving shards refuse too.
      const refused = await redis.set(keys[2]!.key, 'x').then(
        () => undefined,
        (err: Error) => err,
      );
      expect(refused?.message).toMatch(/CLUSTERDOWN|timed out/);
      expect(isRedisUnavailableError(refused)).toBe(true);
      // A pipeline gets the CLUSTERDOWN reply itself (durableWrite tried 3 times, nothing applied).
      const down = await durableWrite(redis, (p) => p.set(keys[2]!.key, 'y')).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(down?.message).toMatch(/^CLUSTERDOWN/);
      expect(isRedisUnavailableError(down)).toBe(true);
      await vi.waitFor(async () => expect((await check()).status).toBe('down'), {
        timeout: 5000,
        interval: 100,
      });
      expect(String((await check()).message)).toMatch(/cluster_state:fail|did not answer/);
    } finally {
      await app.moduleRef.close();
    }
  });
});
