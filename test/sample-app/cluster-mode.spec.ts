/**
 * The built sample app in Redis Cluster mode (REDIS_CLUSTER_NODES), on a real cluster of 3 masters
 * with two replicas each (so that a shard still has a replica to acknowledge durable jobs after
 * one of its nodes died): every feature works, and a SIGKILL of the shard master that holds the job
 * queue (`{bull}` hash tag) loses no accepted job, keeps sessions, and notifications resume.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { useCluster } from '../support/use-cluster.js';
import { NotificationSocket, SseClient, type AppProcess } from './app-process.js';
import { useAppPair } from './use-app-pair.js';
import { allDone, expectNotificationDelivered, REQUEST_DEADLINE_MS, startLoad } from './app-load.js';

const REDIS_PASSWORD = 'cluster-mode-redis-pw-7Hq3';
const SESSION_SECRET = 'cluster-mode-session-secret-0123456789abcdef';

describe('sample app in Redis Cluster mode', () => {
  const cluster = useCluster({ password: REDIS_PASSWORD, replicasPerMaster: 2 });
  /** `other`: its Socket.IO clients get broadcasts through the Redis adapter only. */
  const apps = useAppPair({ redis_password: REDIS_PASSWORD, session_secret: SESSION_SECRET }, () => ({
    REDIS_CLUSTER_NODES: cluster.seedNodes.map((n) => `${n.host}:${n.port}`).join(','),
  }));
  let app: AppProcess;
  let other: AppProcess;
  beforeAll(() => {
    ({ app, other } = apps);
  });

  it('serves jobs, cache, sessions, notifications, readiness per shard and metrics; the password appears nowhere', async () => {
    const job = await app.request('POST', '/jobs', { payload: { hello: 'cluster' } });
    expect(job.status).toBe(202);
    await vi.waitFor(
      async () =>
        expect((await app.request('GET', `/jobs/${job.body.id}`)).body).toMatchObject({ status: 'done' }),
      { timeout: 10_000, interval: 50 },
    );
    // The queue's keys all carry the hash tag: one slot, which BullMQ's multi-key scripts need.
    const master = await cluster.masterForKey('{bull}:jobs:id');
    expect(await cluster.command(master, 'EXISTS', `{bull}:jobs:${job.body.id}`)).toBe(1);

    // Keys of the cache spread over the shards; reads go through the replica client.
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) {
      expect((await app.request('PUT', `/cache/${key}`, { value: `v-${key}` })).status).toBe(204);
    }
    await vi.waitFor(
      async () => {
        for (const key of ['a', 'b', 'c', 'd', 'e', 'f'])
          expect((await app.request('GET', `/cache/${key}`)).body).toMatchObject({ value: `v-${key}` });
      },
      { timeout: 5000, interval: 50 },
    );

    const session = await app.request('POST', '/session', { user: 'ada' });
    expect(session.status).toBe(201);
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(await other.request('GET', '/session', undefined, { cookie })).toMatchObject({
      status: 200,
      body: { user: 'ada' },
    });

    const sse = new SseClient(`${other.url}/notifications/stream`);
    await sse.open;
    const sockets = [new NotificationSocket(app.url), new NotificationSocket(other.url)];
    await Promise.all(sockets.map((s) => s.connected));
    try {
      expect((await app.request('POST', '/notifications', { message: 'to every instance' })).status).toBe(
        202,
      );
      await vi.waitFor(
        () => {
          expect(sse.messages.map((m) => m.message)).toContain('to every instance');
          expect(sockets.map((s) => s.messages.some((m) => m.message === 'to every instance'))).toEqual([
            true,
            true,
          ]);
        },
        { timeout: 5000, interval: 20 },
      );
    } finally {
      sse.close();
      for (const s of sockets) s.close();
    }

    const ready = await app.request('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info.redis.status).toBe('up');
    expect(JSON.stringify(ready.body)).toContain(`${master.host}:${master.port}`);

    const metrics = await app.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body as string).toMatch(/^bastion_redis_client_ready\{client="jobs"[^}]*\} 1$/m);

    for (const out of [app.output, other.output, JSON.stringify(ready.body), metrics.body as string]) {
      expect(out).not.toContain(REDIS_PASSWORD);
    }
  });

  it('SIGKILL of the queue shard master under load: accepted jobs all done, session kept, notifications resume, no 500, nothing hangs', async () => {
    const session = await app.request('POST', '/session', { user: 'grace' });
    expect(session.status).toBe(201);
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!;
    const blockedUser = 'mallory-cluster';
    const signIns: number[] = [];
    for (let i = 0; i < 6; i++)
      signIns.push((await app.request('POST', '/session', { user: blockedUser })).status);
    expect(signIns).toEqual([201, 201, 201, 201, 201, 429]);
    expect((await app.request('PUT', '/cache/failover-key', { value: 'kept' })).status).toBe(204);
    const sse = new SseClient(`${app.url}/notifications/stream`);
    await sse.open;
    const sockets = [new NotificationSocket(app.url), new NotificationSocket(other.url)];
    await Promise.all(sockets.map((s) => s.connected));

    const load = startLoad(app, blockedUser);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const victim = await cluster.masterForKey('{bull}:jobs:id');
      const acceptedBeforeFault = load.result.accepted.length;
      const killedAt = Date.now();
      await cluster.kill(victim);
      await cluster.waitForPromotion(victim);
      const promotedAt = Date.now();
      await vi.waitFor(
        () =>
          expect(
            load.result.accepted.length >= acceptedBeforeFault + 10,
            'jobs accepted after the promotion',
          ).toBe(true),
        { timeout: 20_000, interval: 20 },
      );
      const result = await load.stop();
      console.log(
        `[cluster-mode] promotion ${promotedAt - killedAt} ms after SIGKILL; ${result.accepted.length} jobs accepted, ${result.rejected} refused (503); longest request ${result.longestMs} ms; readiness ${JSON.stringify(countBy(result.readyStatuses))}`,
      );

      expect(result.errors).toEqual([]); // no request hung past its deadline or failed at the socket
      expect(result.unexpected).toEqual([]); // every failure was a retryable 503, never a 500
      expect(result.longestMs).toBeLessThan(REQUEST_DEADLINE_MS);
      expect(result.readyLongestMs).toBeLessThan(1500);
      expect(result.blockedSignIns[201], 'the sign-in limit held').toBeUndefined();
      await vi.waitFor(async () => expect((await app.request('GET', '/health/ready')).status).toBe(200), {
        timeout: 10_000,
        interval: 50,
      });

      // Every job answered 202 ends done: a durably enqueued job survives the death of its master.
      await vi.waitFor(
        async () => expect(await allDone(app, result.accepted), 'accepted jobs not done').toEqual([]),
        { timeout: 45_000, interval: 50 },
      );
      expect(await app.request('GET', '/session', undefined, { cookie })).toMatchObject({
        status: 200,
        body: { user: 'grace' },
      });
      expect((await app.request('POST', '/session', { user: blockedUser })).status).toBe(429);

      await expectNotificationDelivered(app, sse, sockets);
    } finally {
      await load.stop();
      sse.close();
      for (const s of sockets) s.close();
    }
  });
});

function countBy(values: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
