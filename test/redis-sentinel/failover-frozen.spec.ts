import type { Redis } from 'ioredis';
import { RedisSentinelHealthIndicator } from '@bastion/redis-sentinel';
import { useTopology } from '../support/use-topology.js';
import {
  openHandles,
  waitForHandlesBack,
  PROTECTED_TOPOLOGY,
  sentinelOptions,
  sleep,
  startModule,
  watchSwitchMaster,
} from './support.js';

const COMMAND_TIMEOUT_MS = 1000;
const SHUTDOWN_TIMEOUT_MS = 500;

describe('frozen master (SIGSTOP)', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it('moves to the new master without waiting for the old one, bounds every command, answers health in time, shuts down in time', async () => {
    const handlesBefore = openHandles();
    const observer = await watchSwitchMaster(topo);
    const app = await startModule(sentinelOptions(topo, { commandTimeoutMs: COMMAND_TIMEOUT_MS }));
    // A second app that is shut down while the master is frozen.
    const doomed = await startModule(sentinelOptions(topo, { shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS }), {
      clients: { default: 'master', events: 'subscriber' },
    });
    const redis: Redis = app.clients.get();
    const health = app.moduleRef.get(RedisSentinelHealthIndicator);
    const oldMaster = topo.master;

    let seq = 0;
    const state = { running: true };
    let maxLatency = 0;
    const acked: Array<{ at: number; key: string }> = [];
    const errors = new Set<string>();
    const loop = (async () => {
      while (state.running) {
        const key = `frozen:${++seq}`;
        const started = Date.now();
        try {
          await redis.set(key, '1');
          acked.push({ at: Date.now(), key });
          maxLatency = Math.max(maxLatency, Date.now() - started);
          await sleep(10);
        } catch (err) {
          // Failed writes are allowed during the failover; lost acknowledged ones are not. No pause
          // after a failure, so a write is always in flight when the switch comes.
          errors.add((err as Error).name);
          maxLatency = Math.max(maxLatency, Date.now() - started);
        }
      }
    })();

    try {
      await sleep(200);
      topo.freeze(oldMaster);
      const frozenAt = Date.now();

      // Health answers within its timeout although PING hangs.
      const h0 = Date.now();
      const frozenHealth = await health.isHealthy('redis', { timeoutMs: 500 });
      expect(Date.now() - h0).toBeLessThan(900);
      expect(frozenHealth.redis.status).toBe('down');

      // Shutdown with a frozen master is bounded.
      const c0 = Date.now();
      await doomed.moduleRef.close();
      expect(Date.now() - c0).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 500);

      await vi.waitFor(
        () => expect(observer.switches.length > 0, 'Sentinels announce +switch-master').toBe(true),
        { timeout: 20_000, interval: 20 },
      );
      const { at: switchAt, to: newPort } = observer.switches[0]!;
      await vi.waitFor(
        () =>
          expect(
            acked.some((a) => a.at > switchAt),
            'a write succeeds after the switch',
          ).toBe(true),
        { timeout: 10_000, interval: 20 },
      );
      const firstAfter = acked.find((a) => a.at > switchAt)!;
      console.log(
        `[frozen] switch ${switchAt - frozenAt} ms after SIGSTOP; first write ${firstAfter.at - switchAt} ms after +switch-master; max command latency ${maxLatency} ms`,
      );
      // Loose bound: the benchmark holds the real target (<= 100 ms).
      expect(firstAfter.at - switchAt).toBeLessThan(1000);
      // Moved while the old master is still frozen.
      expect(oldMaster.stopped).toBe(true);
      expect(app.clients.stats().clients[0]!.address).toBe(`127.0.0.1:${newPort}`);

      await vi.waitFor(
        async () =>
          expect((await health.isHealthy('redis')).redis.status === 'up', 'health is up again').toBe(true),
        { timeout: 10_000, interval: 20 },
      );

      // SIGCONT: the old master comes back and is demoted; the client never goes back to it.
      topo.thaw(oldMaster);
      await vi.waitFor(
        async () => expect((await topo.role(oldMaster)) === 'slave', 'old master demoted').toBe(true),
        { timeout: 20_000, interval: 20 },
      );
      await sleep(300);
      state.running = false;
      await loop;
      expect(maxLatency).toBeLessThan(COMMAND_TIMEOUT_MS + 500);
      // Writes pending on the frozen socket timed out, and the one in flight at the switch was
      // rejected (not resent to the new master): it may still run when the old master wakes up.
      expect([...errors]).toContain('RedisConnectionLostError');
      const names = (await topo.command(oldMaster, 'CLIENT', 'LIST'))
        .split('\n')
        .map((l) => /name=(\S*)/.exec(l)?.[1])
        .filter((n) => n?.startsWith('bastion:'));
      expect(names).toEqual([]);
      // Every acknowledged write made after the switch is on the new master.
      const newMaster = topo.nodeByPort(newPort);
      const after = acked.filter((a) => a.at > switchAt);
      const values = (await topo.command(newMaster, 'MGET', ...after.map((a) => a.key))) as unknown as Array<
        string | null
      >;
      expect(values.filter((v) => v !== '1')).toEqual([]);
    } finally {
      state.running = false;
      await loop;
      observer.close();
      await app.moduleRef.close();
    }
    await waitForHandlesBack(handlesBefore);
  });
});
