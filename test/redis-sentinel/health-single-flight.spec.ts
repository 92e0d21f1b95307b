import { RedisSentinelHealthIndicator } from '@bastion/redis-sentinel';
import type { RedisNode, RedisTopology } from '@bastion/redis-topology';
import { useTopology } from '../support/use-topology.js';
import { PROTECTED_TOPOLOGY, sentinelOptions, sleep, startModule } from './support.js';

/** The watcher's safety-net poll asks every Sentinel too: out of the way of the counts here. */
const QUIET = { topologyCheckIntervalMs: 600_000 };

/** How often a data node ran `command` since it started (`INFO commandstats`). */
async function calls(topo: RedisTopology, node: RedisNode, command: string): Promise<number> {
  const info = await topo.command(node, 'INFO', 'commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

/**
 * Commands a Sentinel processed since it started (`INFO stats`; a Sentinel has no commandstats).
 * The Sentinels' own chatter adds a few a second, and each INFO one.
 */
async function processed(topo: RedisTopology, sentinel: RedisNode): Promise<number> {
  const info = await topo.command(sentinel, 'INFO', 'stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)![1]);
}

async function masterNode(topo: RedisTopology): Promise<RedisNode> {
  return topo.nodeByPort((await topo.currentMasterPort())!);
}

describe('concurrent health probes share one check; a reused answer never outlives a failover', () => {
  const topo = useTopology({ ...PROTECTED_TOPOLOGY, downAfterMs: 1000 });

  it('50 concurrent calls make one check (one ROLE on the master, one question per Sentinel); then reused within freshnessMs', async () => {
    const app = await startModule(sentinelOptions(topo, QUIET));
    const health = app.moduleRef.get(RedisSentinelHealthIndicator);
    try {
      // Nothing else sends ROLE to the master (Sentinels use INFO).
      const master = await masterNode(topo);
      const counts = async () => ({
        role: await calls(topo, master, 'role'),
        sentinel: await Promise.all(topo.sentinels.map((s) => processed(topo, s))),
      });
      const before = await counts();
      const results = await Promise.all(
        Array.from({ length: 50 }, () => health.isHealthy('redis', { freshnessMs: 0 })),
      );
      expect(results.every((r) => r.redis.status === 'up')).toBe(true);
      const after = await counts();
      expect(after.role - before.role).toBe(1);
      // One question each (plus the Sentinels' chatter); a check per call would be 50 each.
      for (const [i, n] of after.sentinel.entries()) expect(n - before.sentinel[i]!).toBeLessThan(20);

      // Within freshnessMs the answer is reused: 100 calls, no new check.
      expect((await health.isHealthy('redis', { freshnessMs: 60_000 })).redis.status).toBe('up');
      const warm = await counts();
      for (let i = 0; i < 100; i++) await health.isHealthy('redis', { freshnessMs: 60_000 });
      expect((await counts()).role).toBe(warm.role);
      // Past it, a new check runs.
      await sleep(60);
      await health.isHealthy('redis', { freshnessMs: 50 });
      expect((await counts()).role).toBe(warm.role + 1);
    } finally {
      await app.moduleRef.close();
    }
  });

  it('a reused "up" is dropped at +switch-master: the next answer is a new check, and names the new master', async () => {
    const app = await startModule(sentinelOptions(topo, QUIET));
    const health = app.moduleRef.get(RedisSentinelHealthIndicator);
    // Far longer than the test: only the failover may end its reuse.
    const options = { freshnessMs: 600_000 };
    try {
      const oldMaster = `127.0.0.1:${topo.master.port}`;
      const cached = await health.isHealthy('redis', options);
      expect(cached.redis).toMatchObject({ status: 'up', masterAddress: oldMaster, address: oldMaster });
      expect(await health.isHealthy('redis', options)).toEqual(cached);

      await topo.triggerFailover();
      await vi.waitFor(() => expect(app.clients.stats().failoversSeen).toBe(1), {
        timeout: 20_000,
        interval: 5,
      });
      const next = await health.isHealthy('redis', options);
      expect(next).not.toEqual(cached);
      expect(next.redis.status === 'up' && next.redis.masterAddress === oldMaster).toBe(false);
      const newMaster = app.clients.stats().currentMaster;
      expect(newMaster).not.toBe(oldMaster);
      await vi.waitFor(
        async () =>
          expect((await health.isHealthy('redis', options)).redis).toMatchObject({
            status: 'up',
            masterAddress: newMaster,
            address: newMaster,
          }),
        { timeout: 10_000, interval: 20 },
      );
    } finally {
      await app.moduleRef.close();
    }
  });

  it('a frozen master under a flood of probes: down within freshnessMs + timeoutMs of the freeze', async () => {
    const app = await startModule(sentinelOptions(topo, QUIET));
    const health = app.moduleRef.get(RedisSentinelHealthIndicator);
    const freshnessMs = 250;
    const timeoutMs = 500;
    const answers: Array<{ at: number; status: string }> = [];
    const state = { running: true };
    // 8 probes back to back, as a load balancer's would come.
    const probes = Array.from({ length: 8 }, async () => {
      while (state.running) {
        const r = await health.isHealthy('redis', { freshnessMs, timeoutMs });
        answers.push({ at: Date.now(), status: r.redis.status });
      }
    });
    const master = await masterNode(topo);
    try {
      await sleep(300);
      expect(answers.length).toBeGreaterThan(0);
      expect(answers.every((a) => a.status === 'up')).toBe(true);
      topo.freeze(master);
      const frozenAt = Date.now();
      await vi.waitFor(() => expect(answers.some((a) => a.at > frozenAt && a.status === 'down')).toBe(true), {
        timeout: 5000,
        interval: 10,
      });
      const firstDown = answers.find((a) => a.at > frozenAt && a.status === 'down')!;
      // Loose bound (a loaded machine): the design bound is freshnessMs + timeoutMs.
      expect(firstDown.at - frozenAt).toBeLessThan(freshnessMs + timeoutMs + 300);
      // No "up" answered after the bound, while the client is still on the frozen master.
      const bound = frozenAt + freshnessMs + timeoutMs + 300;
      expect(answers.filter((a) => a.at > bound && a.status === 'up')).toEqual([]);
    } finally {
      state.running = false;
      await Promise.all(probes);
      topo.thaw(master);
      await app.moduleRef.close();
    }
  });
});
