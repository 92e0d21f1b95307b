import type { Redis } from 'ioredis';
import { RedisSentinelEvents } from '@bastion/redis-sentinel';
import { useTopology } from '../support/use-topology.js';
import { PROTECTED_TOPOLOGY, sentinelOptions, sleep, startModule, watchSwitchMaster } from './support.js';

describe('killed master (SIGKILL) under a write loop', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it('resumes writes on the new master soon after +switch-master, and pub/sub works after the failover', async () => {
    const observer = await watchSwitchMaster(topo);
    const app = await startModule(sentinelOptions(topo), {
      clients: { default: 'master', events: 'subscriber' },
    });
    const redis: Redis = app.clients.get();
    const subscriber: Redis = app.clients.get('events');
    const events = app.moduleRef.get(RedisSentinelEvents);
    const switchEvents: unknown[] = [];
    events.on('switch-master', (e) => switchEvents.push(e));
    const received: string[] = [];
    subscriber.on('message', (_c: string, m: string) => received.push(m));
    await subscriber.subscribe('kill:notify');

    const state = { running: true };
    const acked: number[] = [];
    let seq = 0;
    const loop = (async () => {
      while (state.running) {
        try {
          await redis.set(`kill:${++seq}`, '1');
          acked.push(Date.now());
        } catch {
          // writes may fail while no master exists
        }
        await sleep(10);
      }
    })();
    const oldPort = topo.master.port;
    try {
      await sleep(200);
      const killedAt = Date.now();
      await topo.kill(topo.master);
      await observer.firstSwitch();
      const { at: switchAt, to: newPort } = observer.switches[0]!;
      await vi.waitFor(
        () =>
          expect(
            acked.some((t) => t > switchAt),
            'a write after the switch',
          ).toBe(true),
        { timeout: 10_000, interval: 20 },
      );
      const firstAfter = acked.find((t) => t > switchAt)!;
      console.log(
        `[kill] switch ${switchAt - killedAt} ms after SIGKILL; first write ${firstAfter - switchAt} ms after +switch-master`,
      );
      expect(firstAfter - switchAt).toBeLessThan(1000);
      expect(switchEvents).toEqual([
        expect.objectContaining({
          from: { host: '127.0.0.1', port: oldPort },
          to: { host: '127.0.0.1', port: newPort },
        }),
      ]);
      expect(app.clients.stats()).toMatchObject({ failoversSeen: 1, currentMaster: `127.0.0.1:${newPort}` });

      // The subscriber followed the master and its subscription is back.
      await vi.waitFor(
        () =>
          expect(
            app.clients.stats().clients.find((c) => c.name === 'events')?.address === `127.0.0.1:${newPort}`,
            'subscriber on the new master',
          ).toBe(true),
        { timeout: 20_000, interval: 20 },
      );
      await vi.waitFor(
        async () => {
          await redis.publish('kill:notify', 'after-failover');
          expect(received.includes('after-failover'), 'a message published after the failover arrives').toBe(
            true,
          );
        },
        { timeout: 20_000, interval: 20 },
      );
    } finally {
      state.running = false;
      await loop;
      observer.close();
      await app.moduleRef.close();
    }
  });
});
