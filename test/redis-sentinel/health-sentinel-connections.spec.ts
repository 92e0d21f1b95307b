import { RedisSentinelHealthIndicator } from '@bastion/redis-sentinel';
import type { RedisNode, RedisTopology } from '@bastion/redis-topology';
import { resolveRedisSentinelOptions } from '../../libs/redis-sentinel/src/redis-sentinel-options.resolver.js';
import {
  SENTINEL_QUERY_CONNECTION_NAME,
  SentinelQueryPool,
} from '../../libs/redis-sentinel/src/sentinel-query-pool.js';
import { readMasterAddress } from '../../libs/redis-sentinel/src/sentinel-query.js';
import { printed } from '../support/printed.js';
import { useTopology } from '../support/use-topology.js';
import {
  openHandles,
  PROTECTED_TOPOLOGY,
  SENTINEL_PASSWORD,
  sentinelOptions,
  startModule,
  waitForHandlesBack,
} from './support.js';

/** The watcher's safety-net poll dials every Sentinel too: out of the way of the counts here. */
const QUIET = { topologyCheckIntervalMs: 600_000 };

/** Connections a Sentinel has accepted since it started (`INFO stats`). */
async function connectionsReceived(topo: RedisTopology, sentinel: RedisNode): Promise<number> {
  const info = await topo.command(sentinel, 'INFO', 'stats');
  return Number(/total_connections_received:(\d+)/.exec(info)![1]);
}

/** The health indicator's query connections open on a Sentinel (`CLIENT LIST`). */
async function queryConnections(topo: RedisTopology, sentinel: RedisNode): Promise<number> {
  const list = await topo.command(sentinel, 'CLIENT', 'LIST');
  return list.split('\n').filter((line) => line.includes(`name=${SENTINEL_QUERY_CONNECTION_NAME} `)).length;
}

describe('the health indicator asks the Sentinels over one persistent connection each', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it('100 checks dial each Sentinel once (not 100 times); the connections close at shutdown', async () => {
    const handlesBefore = openHandles();
    const app = await startModule(sentinelOptions(topo, QUIET));
    const health = app.moduleRef.get(RedisSentinelHealthIndicator);
    try {
      const before = await Promise.all(topo.sentinels.map((s) => connectionsReceived(topo, s)));
      for (let i = 0; i < 100; i++) {
        // freshnessMs 0: every call is a check of its own, with its Sentinel questions.
        expect((await health.isHealthy('redis', { freshnessMs: 0 })).redis.status).toBe('up');
      }
      const after = await Promise.all(topo.sentinels.map((s) => connectionsReceived(topo, s)));
      // One dial by the indicator, one by each INFO above; a connection per check would be 100.
      expect(after.map((n, i) => n - before[i]!)).toEqual(after.map(() => 2));
      expect(await Promise.all(topo.sentinels.map((s) => queryConnections(topo, s)))).toEqual([1, 1, 1]);
    } finally {
      await app.moduleRef.close();
    }
    await vi.waitFor(
      async () =>
        expect(await Promise.all(topo.sentinels.map((s) => queryConnections(topo, s)))).toEqual([0, 0, 0]),
      { timeout: 3000, interval: 20 },
    );
    await waitForHandlesBack(handlesBefore);
  });

  it('a frozen Sentinel costs at most the budget; all frozen: degraded within the timeout, then up again over fresh connections', async () => {
    const app = await startModule(sentinelOptions(topo, QUIET));
    const health = app.moduleRef.get(RedisSentinelHealthIndicator);
    const check = async () => {
      const started = Date.now();
      const r = await health.isHealthy('redis', { timeoutMs: 500, freshnessMs: 0 });
      return { status: r.redis.status, message: r.redis.message as unknown, ms: Date.now() - started };
    };
    try {
      // The connections are open before the Sentinels freeze: the frozen ones go silent on them.
      expect((await check()).status).toBe('up');
      const [first, ...others] = topo.sentinels;
      topo.freeze(first!);
      // The others answer at once: `up`, without waiting for the frozen one.
      const one = await check();
      expect(one.status).toBe('up');
      expect(one.ms).toBeLessThan(300);
      for (const s of others) topo.freeze(s);
      // Twice: first on the silent connections, then on fresh dials that never get an answer.
      for (let i = 0; i < 2; i++) {
        const all = await check();
        expect(all).toMatchObject({
          status: 'degraded',
          message: 'no Sentinel answered; master address not verified',
        });
        expect(all.ms).toBeLessThan(900);
      }
    } finally {
      for (const s of topo.sentinels) topo.thaw(s);
    }
    try {
      await vi.waitFor(async () => expect((await check()).status).toBe('up'), {
        timeout: 5000,
        interval: 50,
      });
      // The abandoned connections are gone; one fresh connection per Sentinel is left.
      await vi.waitFor(
        async () =>
          expect(await Promise.all(topo.sentinels.map((s) => queryConnections(topo, s)))).toEqual([1, 1, 1]),
        { timeout: 5000, interval: 50 },
      );
    } finally {
      await app.moduleRef.close();
    }
  });

  it('a refused Sentinel password: the error says so, and neither it nor the pool prints a password', async () => {
    const wrong = 'Wrong-sentinel-pw-Qx81';
    const options = resolveRedisSentinelOptions(sentinelOptions(topo, { sentinelPassword: wrong }));
    const pool = new SentinelQueryPool(options);
    const sentinel = topo.sentinelAddresses[0]!;
    try {
      const err = await pool
        .query(sentinel, 500, (c) => readMasterAddress(c, sentinel, options))
        .catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/WRONGPASS|invalid password/i);
      for (const secret of [wrong, SENTINEL_PASSWORD]) {
        expect(printed(err)).not.toContain(secret);
        expect(printed(pool)).not.toContain(secret);
      }
      // The refused connection is not kept: the next call dials again.
      expect(pool.size).toBe(0);
    } finally {
      await pool.close(500);
    }
  });
});
