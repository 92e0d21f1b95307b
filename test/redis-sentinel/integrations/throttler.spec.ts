import {
  REDIS_UNAVAILABLE_BODY,
  RedisSentinelModule,
  type RedisSentinelModuleOptions,
} from '@bastion/redis-sentinel';
import type { RedisThrottlerStorageOptions } from '@bastion/redis-sentinel/throttler';
import type { RedisTopology } from '@bastion/redis-topology';
import { useTopology } from '../../support/use-topology.js';
import {
  hit,
  LIMIT,
  startThrottledApp,
  TIMEOUT_MS,
  trackerKeys,
  type ThrottledApp,
} from './throttled-app.js';
import { PROTECTED_TOPOLOGY, sentinelOptions, waitReplicasAttached, watchSwitchMaster } from '../support.js';

/** One HTTP app on the Sentinel topology (see `startThrottledApp`). */
function startApp(
  topo: RedisTopology,
  storageOptions: RedisThrottlerStorageOptions,
  extras: Parameters<typeof startThrottledApp>[2] = {},
  moduleOptions: RedisSentinelModuleOptions = {},
): Promise<ThrottledApp> {
  return startThrottledApp(
    RedisSentinelModule.forRoot({ ...sentinelOptions(topo, moduleOptions), isGlobal: true }),
    storageOptions,
    extras,
  );
}

async function currentMaster(topo: RedisTopology) {
  return topo.nodeByPort((await topo.currentMasterPort())!);
}

describe('@nestjs/throttler on RedisThrottlerStorage', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);
  const apps: ThrottledApp[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  it('enforces the limit (6th request in the window: 429 + Retry-After), counts in Redis, shared by two app instances', async () => {
    const a = await startApp(topo, {});
    const b = await startApp(topo, {});
    apps.push(a, b);

    for (let i = 1; i <= LIMIT; i++) {
      const res = await hit(a.url, 'solo');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - i));
    }
    expect(await topo.command(topo.master, 'GET', trackerKeys('solo').hits)).toBe(String(LIMIT));
    const over = await hit(a.url, 'solo');
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(9);
    expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(10);
    // Blocked on the other instance too.
    expect((await hit(b.url, 'solo')).status).toBe(429);

    // Counts are shared: 3 on A and 2 on B fill the window; the next one on either is refused.
    const statuses: number[] = [];
    for (const url of [a.url, a.url, b.url, a.url, b.url]) statuses.push((await hit(url, 'shared')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect((await hit(b.url, 'shared')).status).toBe(429);
    expect((await hit(a.url, 'shared')).status).toBe(429);
    expect(a.storage.stats()).toMatchObject({ failedOpen: 0, failedClosed: 0 });
    expect(a.storage.stats().counted + b.storage.stats().counted).toBe(LIMIT + 2 + 5 + 2);
  });

  it('block semantics: after the block ends, counting restarts from zero', async () => {
    const a = await startApp(topo, {}, { throttler: { limit: 2, blockDuration: 1500 } });
    apps.push(a);
    expect((await hit(a.url, 'blocky')).status).toBe(200);
    expect((await hit(a.url, 'blocky')).status).toBe(200);
    const blocked = await hit(a.url, 'blocky');
    const blockedAt = Date.now();
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('2');
    // Still blocked within the block (uncounted: the block does not grow).
    expect((await hit(a.url, 'blocky')).status).toBe(429);
    await vi.waitFor(async () => expect((await hit(a.url, 'blocky')).status).toBe(200), {
      timeout: 5000,
      interval: 100,
    });
    const unblockedAfter = Date.now() - blockedAt;
    expect(unblockedAfter).toBeGreaterThanOrEqual(1400);
    // The 10 s window has not ended, yet the count started again: this is hit 1 of 2.
    const second = await hit(a.url, 'blocky');
    expect(second.status).toBe(200);
    expect(second.headers.get('x-ratelimit-remaining')).toBe('0');
    expect((await hit(a.url, 'blocky')).status).toBe(429);
  });

  it('blockDuration 0, as the in-memory storage: over the limit is refused, the count goes on, the window ends it', async () => {
    const a = await startApp(topo, {}, { throttler: { ttl: 1500, limit: 2, blockDuration: 0 } });
    apps.push(a);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await hit(a.url, 'no-block')).status);
    // A 1 ms block that reset the count each time would let every other request through.
    expect(statuses).toEqual([200, 200, 429, 429, 429]);
    await vi.waitFor(async () => expect((await hit(a.url, 'no-block')).status).toBe(200), {
      timeout: 5000,
      interval: 100,
    });
  });

  it('a count made before a SIGKILL failover still counts after it', async () => {
    const a = await startApp(topo, {});
    apps.push(a);
    const observer = await watchSwitchMaster(topo);
    try {
      const master = await currentMaster(topo);
      for (let i = 0; i < 3; i++) expect((await hit(a.url, 'durable')).status).toBe(200);
      // Both replicas hold the count before the kill (WAIT's guarantee, observed directly).
      await vi.waitFor(
        async () => {
          for (const replica of topo.dataNodes.filter((n) => n !== master)) {
            expect(await topo.command(replica, 'GET', trackerKeys('durable').hits)).toBe('3');
          }
        },
        { timeout: 5000, interval: 20 },
      );
      const killedAt = Date.now();
      await topo.kill(master);
      await observer.firstSwitch();
      const { at: switchAt } = observer.switches[0]!;
      // Counting resumes (a probe tracker, so uncounted failed-open requests do not matter).
      const counted = a.storage.stats().counted;
      await vi.waitFor(
        async () => {
          await hit(a.url, 'probe');
          expect(a.storage.stats().counted).toBeGreaterThan(counted);
        },
        { timeout: 10_000, interval: 20 },
      );
      console.log(
        `[throttler kill] switch ${switchAt - killedAt} ms after SIGKILL; counting again ${Date.now() - switchAt} ms after +switch-master; stats ${JSON.stringify(a.storage.stats())}`,
      );
      const fourth = await hit(a.url, 'durable');
      expect(fourth.status).toBe(200);
      expect(fourth.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - 4));
      expect((await hit(a.url, 'durable')).status).toBe(200);
      expect((await hit(a.url, 'durable')).status).toBe(429);
      // The next test fails over again: the surviving replica must follow the new master first.
      await waitReplicasAttached(topo, observer.switches[0]!.to, 1);
    } finally {
      observer.close();
    }
  });

  // Last: after the SIGKILL test, so the thawed old master need not be awaited as a replica.
  it('SIGSTOP of the master: open lets requests through in time, closed answers 503 + Retry-After; both count again after the failover', async () => {
    const open = await startApp(topo, { failureMode: 'open' });
    const closed = await startApp(topo, { failureMode: 'closed' }, { filter: true });
    apps.push(open, closed);
    const observer = await watchSwitchMaster(topo);
    const oldMaster = await currentMaster(topo);
    // A late Sentinel may still echo the previous switch (to this very master): not a move.
    const moves = () => observer.switches.filter((s) => s.to !== oldMaster.port);
    expect((await hit(open.url, 'o')).status).toBe(200);
    expect((await hit(closed.url, 'c')).status).toBe(200);
    const countedBefore = { open: open.storage.stats().counted, closed: closed.storage.stats().counted };
    try {
      topo.freeze(oldMaster);
      const frozenAt = Date.now();
      // Distinct trackers: the limit must not be what refuses them.
      const [openRes, closedRes] = await Promise.all([
        Promise.all([1, 2, 3].map((i) => hit(open.url, `frozen-open-${i}`))),
        Promise.all([1, 2, 3].map((i) => hit(closed.url, `frozen-closed-${i}`))),
      ]);
      const answeredBy = Date.now() - frozenAt;
      console.log(
        `[throttler frozen] open: ${openRes.map((r) => `${r.status}/${r.ms}ms`).join(' ')}; closed: ${closedRes.map((r) => `${r.status}/${r.ms}ms`).join(' ')}; stats open ${JSON.stringify(open.storage.stats())} closed ${JSON.stringify(closed.storage.stats())}`,
      );
      expect(
        moves().some((s) => s.at <= frozenAt + answeredBy),
        'answered before the switch',
      ).toBe(false);
      for (const res of openRes) {
        expect(res.status).toBe(200);
        expect(res.ms).toBeLessThan(TIMEOUT_MS + 700);
      }
      expect(open.storage.stats().failedOpen).toBe(3);
      for (const res of closedRes) {
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('1');
        expect(JSON.parse(res.body)).toEqual(REDIS_UNAVAILABLE_BODY);
        expect(res.ms).toBeLessThan(TIMEOUT_MS + 700);
      }
      expect(closed.storage.stats().failedClosed).toBe(3);

      await vi.waitFor(() => expect(moves().length > 0, '+switch-master').toBe(true), {
        timeout: 20_000,
        interval: 20,
      });
      const { at: switchAt, to } = moves()[0]!;
      let countedAt = 0;
      await vi.waitFor(
        async () => {
          const [o, c] = await Promise.all([hit(open.url, 'after-o'), hit(closed.url, 'after-c')]);
          expect(c.status).toBe(200);
          expect(open.storage.stats().counted).toBeGreaterThan(countedBefore.open);
          expect(closed.storage.stats().counted).toBeGreaterThan(countedBefore.closed);
          expect(o.status).toBe(200);
          countedAt = Date.now();
        },
        { timeout: 10_000, interval: 20 },
      );
      console.log(
        `[throttler frozen] switch ${switchAt - frozenAt} ms after SIGSTOP; both storages count again ${countedAt - switchAt} ms after +switch-master`,
      );
      expect(countedAt - switchAt).toBeLessThan(5000);
      expect(
        await topo.command(
          topo.nodeByPort(to),
          'EXISTS',
          trackerKeys('after-o').hits,
          trackerKeys('after-c').hits,
        ),
      ).toBe(2);
    } finally {
      topo.thaw(oldMaster);
      observer.close();
    }
  });
});
