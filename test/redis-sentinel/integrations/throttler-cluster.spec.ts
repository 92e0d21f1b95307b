import { REDIS_UNAVAILABLE_BODY, RedisClusterModule } from '@bastion/redis-sentinel';
import type { RedisThrottlerStorageOptions } from '@bastion/redis-sentinel/throttler';
import { slotOwners, type RedisClusterNode } from '@bastion/redis-topology';
import { useCluster } from '../../support/use-cluster.js';
import { CLUSTER_PASSWORD, clusterOptions } from '../cluster-support.js';
import {
  hit,
  LIMIT,
  startThrottledApp,
  TIMEOUT_MS,
  trackerKeys,
  type ThrottledApp,
} from './throttled-app.js';

describe('@nestjs/throttler on RedisThrottlerStorage over RedisClusterModule', () => {
  const cluster = useCluster({ password: CLUSTER_PASSWORD });
  const apps: ThrottledApp[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  /** One HTTP app on the cluster (see `startThrottledApp`), closed after the test. */
  async function startApp(
    storageOptions: RedisThrottlerStorageOptions,
    filter = false,
  ): Promise<ThrottledApp> {
    const app = await startThrottledApp(
      RedisClusterModule.forRoot({ ...clusterOptions(cluster, { commandTimeoutMs: 3000 }), isGlobal: true }),
      storageOptions,
      { filter },
    );
    apps.push(app);
    return app;
  }

  /** A tracker name whose keys live on `master`'s slots (as a reachable node sees them). */
  async function trackerOn(master: RedisClusterNode, prefix: string): Promise<string> {
    const owners = slotOwners(await cluster.view(cluster.reachableNodes()[0]!));
    for (let i = 0; ; i++) {
      if (owners[cluster.slotOf(trackerKeys(`${prefix}${i}`).hits)] === master.id) return `${prefix}${i}`;
    }
  }

  /** `master_repl_offset` of a node (`INFO replication`). */
  async function replOffset(node: RedisClusterNode): Promise<number> {
    const info = await cluster.command(node, 'INFO', 'replication');
    return Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
  }

  it('counts on every shard (the key pair of a tracker on one slot), blocks over the limit, shared by two instances', async () => {
    const a = await startApp({});
    const b = await startApp({});
    for (const master of await cluster.masters()) {
      const tracker = await trackerOn(master, `shard-${master.port}-`);
      for (let i = 1; i <= LIMIT; i++) {
        const res = await hit(i % 2 ? a.url : b.url, tracker);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - i));
      }
      expect(await cluster.command(master, 'GET', trackerKeys(tracker).hits)).toBe(String(LIMIT));
      const over = await hit(a.url, tracker);
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(9);
      // The script wrote the block on the same master (CROSSSLOT would have failed open instead).
      expect(await cluster.command(master, 'EXISTS', trackerKeys(tracker).blocked)).toBe(1);
      expect((await hit(b.url, tracker)).status).toBe(429);
    }
    for (const { storage } of [a, b])
      expect(storage.stats()).toMatchObject({ failedOpen: 0, failedClosed: 0 });
    expect(a.storage.stats().counted + b.storage.stats().counted).toBe(3 * (LIMIT + 2));

    // Counts ran on the module's clients (no copy of the Cluster): closing the apps leaves no connection.
    await Promise.all(apps.splice(0).map((app) => app.app.close()));
    await vi.waitFor(
      async () => {
        for (const node of cluster.reachableNodes()) {
          expect(await cluster.command(node, 'CLIENT', 'LIST'), node.name).not.toContain(' name=bastion:');
        }
      },
      { timeout: 2000, interval: 50 },
    );
  });

  it('a shard master SIGKILLed: open lets its trackers through, closed answers 503, both within the deadline; counts survive on the promoted replica', async () => {
    const open = await startApp({ failureMode: 'open' });
    const closed = await startApp({ failureMode: 'closed' }, true);
    const victim = (await cluster.masters())[0]!;
    const [replica] = await cluster.replicasOf(victim);
    const [durable, duringOpen, duringClosed] = await Promise.all(
      ['durable-', 'kill-open-', 'kill-closed-'].map((prefix) => trackerOn(victim, prefix)),
    );
    for (let i = 0; i < 3; i++) expect((await hit(open.url, durable!)).status).toBe(200);
    // The replica has every write of its master (so the count 3 is on it).
    const written = await replOffset(victim);
    await vi.waitFor(async () => expect(await replOffset(replica!)).toBeGreaterThanOrEqual(written), {
      timeout: 5000,
      interval: 20,
    });

    const killedAt = Date.now();
    await cluster.kill(victim);
    const [o, c] = await Promise.all([hit(open.url, duringOpen!), hit(closed.url, duringClosed!)]);
    console.log(
      `[throttler cluster kill] open ${o.status}/${o.ms} ms, closed ${c.status}/${c.ms} ms; stats open ${JSON.stringify(open.storage.stats())} closed ${JSON.stringify(closed.storage.stats())}`,
    );
    expect(o.status).toBe(200);
    expect(o.ms).toBeLessThan(TIMEOUT_MS + 700);
    expect(open.storage.stats().failedOpen).toBe(1);
    expect(c.status).toBe(503);
    expect(c.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(c.body)).toEqual(REDIS_UNAVAILABLE_BODY);
    expect(c.ms).toBeLessThan(TIMEOUT_MS + 700);
    expect(closed.storage.stats().failedClosed).toBe(1);

    const promoted = await cluster.waitForPromotion(victim);
    const promotedAt = Date.now();
    // Each app has its own module, so each reloads its own slot map: wait for both.
    const countingAgainMs = await Promise.all(
      [open, closed].map(async (app) => {
        const counted = app.storage.stats().counted;
        await vi.waitFor(
          async () => {
            await hit(app.url, await trackerOn(promoted, 'probe-'));
            expect(app.storage.stats().counted).toBeGreaterThan(counted);
          },
          { timeout: 10_000, interval: 20 },
        );
        return Date.now() - promotedAt;
      }),
    );
    console.log(
      `[throttler cluster kill] promotion seen ${promotedAt - killedAt} ms after SIGKILL; counting again ${countingAgainMs.join(' / ')} ms after it (open / closed)`,
    );
    // The count made before the kill goes on from 3 (the script loads once on the promoted node).
    const fourth = await hit(open.url, durable!);
    expect(fourth.status).toBe(200);
    expect(fourth.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - 4));
    expect((await hit(closed.url, durable!)).status).toBe(200);
    expect((await hit(open.url, durable!)).status).toBe(429);
    expect(await cluster.command(promoted, 'EXISTS', trackerKeys(durable!).blocked)).toBe(1);
  });

  // Last: it takes a whole shard away.
  it('a shard with no node left (CLUSTERDOWN, cluster-require-full-coverage): open lets requests through, closed answers 503, on every shard', async () => {
    const open = await startApp({ failureMode: 'open' });
    const closed = await startApp({ failureMode: 'closed' }, true);
    const [gone, healthy] = await cluster.masters();
    expect((await hit(open.url, 'warm')).status).toBe(200);
    const trackers = {
      gone: await trackerOn(gone!, 'gone-'),
      healthy: await trackerOn(healthy!, 'healthy-'),
    };
    for (const replica of await cluster.replicasOf(gone!)) await cluster.kill(replica);
    await cluster.kill(gone!);
    await cluster.waitUntil(
      async () => (await cluster.clusterInfo(healthy!)).cluster_state === 'fail',
      'a surviving master reports cluster_state:fail',
      20_000,
    );
    const before = { open: open.storage.stats(), closed: closed.storage.stats() };
    const results = await Promise.all(
      Object.values(trackers).flatMap((tracker) => [hit(open.url, tracker), hit(closed.url, tracker)]),
    );
    console.log(
      `[throttler cluster down] ${results.map((r) => `${r.status}/${r.ms}ms`).join(' ')}; stats open ${JSON.stringify(open.storage.stats())} closed ${JSON.stringify(closed.storage.stats())}`,
    );
    const [goneOpen, goneClosed, healthyOpen, healthyClosed] = results;
    for (const res of [goneOpen!, healthyOpen!]) expect(res.status).toBe(200);
    for (const res of [goneClosed!, healthyClosed!]) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
    }
    for (const res of results) expect(res.ms).toBeLessThan(TIMEOUT_MS + 700);
    expect(open.storage.stats().failedOpen - before.open.failedOpen).toBe(2);
    expect(closed.storage.stats().failedClosed - before.closed.failedClosed).toBe(2);
    expect(open.storage.stats().counted).toBe(before.open.counted);
  });
});
