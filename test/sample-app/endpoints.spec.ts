import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { useTopology } from '../support/use-topology.js';
import { NotificationSocket, SseClient, type AppProcess } from './app-process.js';
import { useAppPair } from './use-app-pair.js';

const REDIS_PASSWORD = 'e2e-redis-pw-Zq8vN3xK';
const SENTINEL_PASSWORD = 'e2e-sentinel-pw-Hw4tLm2R';
const SESSION_SECRET = 'e2e-session-secret-abcdefghijklmnopqrstuvwxyz0123';

describe('sample app endpoints (built app, real Sentinel topology, NODE_ENV=production, LOG_LEVEL=debug)', () => {
  const topo = useTopology({ password: REDIS_PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
  /** Two instances of the app on the same Redis, for what instances share. */
  const apps = useAppPair(
    { redis_password: REDIS_PASSWORD, sentinel_password: SENTINEL_PASSWORD, session_secret: SESSION_SECRET },
    () => ({ LOG_LEVEL: 'debug', TRUST_PROXY: 'loopback', REDIS_SENTINELS: topo.sentinelList }),
  );
  let app: AppProcess;
  let other: AppProcess;
  beforeAll(() => {
    ({ app, other } = apps);
  });

  it('GET /health/live is 200 and /health/ready is 200 with redis and secrets up, within 1 s', async () => {
    expect((await app.request('GET', '/health/live')).status).toBe(200);
    const ready = await app.request('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.ms).toBeLessThan(1000);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.details.redis.status).toBe('up');
    expect(ready.body.details.secrets.status).toBe('up');
    expect(ready.body.details.loki).toBeUndefined();
  });

  it('every response carries an X-Request-Id; a valid incoming one is kept', async () => {
    const res = await fetch(`${app.url}/health/live`, { headers: { 'x-request-id': 'req-abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    const generated = await app.request('GET', '/cache/missing-key');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('cache: PUT then GET, 404 for a missing key, 400 for bad input', async () => {
    expect((await app.request('PUT', '/cache/greeting', { value: 'hello', ttlSeconds: 60 })).status).toBe(
      204,
    );
    const got = await app.request('GET', '/cache/greeting');
    expect(got).toMatchObject({ status: 200, body: { key: 'greeting', value: 'hello' } });
    expect((await app.request('GET', '/cache/nope')).status).toBe(404);
    const noValue = await app.request('PUT', '/cache/x', { ttlSeconds: 5 });
    expect(noValue.status).toBe(400);
    expect(noValue.body.message).toContain('"value"');
    const badTtl = await app.request('PUT', '/cache/x', { value: 'v', ttlSeconds: -1 });
    expect(badTtl.status).toBe(400);
    expect(badTtl.body.message).toContain('ttlSeconds');
    expect((await app.request('PUT', '/cache/bad%20key', { value: 'v' })).status).toBe(400);
    const badJson = await app.request('PUT', '/cache/x', undefined, { rawBody: '{not json' });
    expect(badJson.status).toBe(400);
    // Rejected by the body parser, before any controller: still has its request id (and log line).
    expect(badJson.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await vi.waitFor(
      () =>
        expect(
          app.output.includes(`"requestId":"${badJson.headers.get('x-request-id')}"`),
          'the log line of the bad-JSON request',
        ).toBe(true),
      { timeout: 5000, interval: 20 },
    );
  });

  it('cache: a read the replicas cannot answer is a retryable 503, not a 404 (cache-manager would call it a miss)', async () => {
    expect((await app.request('PUT', '/cache/outage-key', { value: 'there' })).status).toBe(204);
    // Frozen replicas: the read path is down, the master is not (no failover).
    for (const r of topo.replicas) topo.freeze(r);
    try {
      const during = await app.request('GET', '/cache/outage-key', undefined, { timeoutMs: 10_000 });
      expect({ status: during.status, retryable: during.body?.retryable }).toEqual({
        status: 503,
        retryable: true,
      });
    } finally {
      for (const r of topo.replicas) topo.thaw(r);
    }
    await vi.waitFor(
      async () =>
        expect((await app.request('GET', '/cache/outage-key')).body).toEqual({
          key: 'outage-key',
          value: 'there',
        }),
      { timeout: 10_000, interval: 50 },
    );
  });

  it('jobs: 202 with an id, processed to done; 404 unknown; 400 without payload', async () => {
    const created = await app.request('POST', '/jobs', { payload: { to: 'ada', n: 1 } });
    expect(created.status).toBe(202);
    expect(created.body.id).toMatch(/^[0-9a-f-]{36}$/);
    await vi.waitFor(
      async () =>
        expect(
          (await app.request('GET', `/jobs/${created.body.id}`)).body?.status === 'done',
          'the job to be done',
        ).toBe(true),
      { timeout: 10_000, interval: 20 },
    );
    const done = await app.request('GET', `/jobs/${created.body.id}`);
    expect(done.body).toEqual({ id: created.body.id, status: 'done', attempts: 1 });
    expect((await app.request('GET', '/jobs/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await app.request('GET', '/jobs/not-an-id')).status).toBe(400);
    const noPayload = await app.request('POST', '/jobs', { other: 1 });
    expect(noPayload.status).toBe(400);
    expect(noPayload.body.message).toContain('payload');
  });

  it('jobs: a retry with the same Idempotency-Key gets the same job, never a second one', async () => {
    const key = randomUUID();
    const post = () =>
      app.request('POST', '/jobs', { payload: { n: 2 } }, { headers: { 'idempotency-key': key } });
    const first = await post();
    const retry = await post();
    expect([first.status, retry.status]).toEqual([202, 202]);
    expect([first.body.id, retry.body.id]).toEqual([key, key]);
    await vi.waitFor(
      async () => expect((await app.request('GET', `/jobs/${key}`)).body?.status).toBe('done'),
      {
        timeout: 10_000,
        interval: 20,
      },
    );
    expect((await app.request('GET', `/jobs/${key}`)).body).toEqual({ id: key, status: 'done', attempts: 1 });
    const bad = await app.request('POST', '/jobs', { payload: 1 }, { headers: { 'idempotency-key': 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('Idempotency-Key');
  });

  it('session: create (HttpOnly cookie), read, delete; 401 without one', async () => {
    expect((await app.request('GET', '/session')).status).toBe(401);
    const created = await app.request('POST', '/session', { user: 'ada' });
    expect(created.status).toBe(201);
    const setCookie = created.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toMatch(/Secure/i); // plain HTTP
    const cookie = setCookie.split(';')[0]!;
    // Behind a TLS-terminating proxy (TRUST_PROXY=loopback here): the cookie is Secure.
    const viaTls = await fetch(`${app.url}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ user: 'tls-user' }),
      signal: AbortSignal.timeout(5000),
    });
    expect(viaTls.status).toBe(201);
    expect(viaTls.headers.get('set-cookie')).toMatch(/;\s*Secure/i);
    expect(await app.request('GET', '/session', undefined, { cookie })).toMatchObject({
      status: 200,
      body: { user: 'ada' },
    });
    expect((await app.request('DELETE', '/session', undefined, { cookie })).status).toBe(204);
    expect((await app.request('GET', '/session', undefined, { cookie })).status).toBe(401);
    expect((await app.request('POST', '/session', { user: '' })).status).toBe(400);
  });

  it('notifications: the SSE stream delivers what is published after it connected', async () => {
    const sse = new SseClient(`${app.url}/notifications/stream`);
    await sse.open;
    const published = await app.request('POST', '/notifications', { message: 'hello subscribers' });
    expect(published.status).toBe(202);
    await vi.waitFor(
      () =>
        expect(
          sse.messages.some((m) => m.message === 'hello subscribers'),
          'the SSE message',
        ).toBe(true),
      { timeout: 5000, interval: 20 },
    );
    sse.close();
    expect((await app.request('POST', '/notifications', { message: 42 })).status).toBe(400);
  });

  it('notifications: Socket.IO clients of every instance get what one instance published (Redis adapter)', async () => {
    const here = new NotificationSocket(app.url);
    const there = new NotificationSocket(other.url);
    try {
      await Promise.all([here.connected, there.connected]);
      const published = await app.request('POST', '/notifications', { message: 'to every instance' });
      expect(published.status).toBe(202);
      await vi.waitFor(
        () =>
          expect(
            [here, there].every((s) => s.messages.some((m) => m.message === 'to every instance')),
            'the notification on both instances',
          ).toBe(true),
        { timeout: 5000, interval: 20 },
      );
      expect(there.messages.find((m) => m.message === 'to every instance')).toEqual({
        id: published.body.id,
        message: 'to every instance',
        publishedAt: expect.any(String),
      });
      // Once per client, not once per instance.
      expect(there.messages.filter((m) => m.message === 'to every instance')).toHaveLength(1);
    } finally {
      here.close();
      there.close();
    }
  });

  it('sign-in is rate limited per user and address, counted in Redis for every instance; health is not limited', async () => {
    const user = 'rate-limited-user';
    const statuses: number[] = [];
    // 5 a minute, whichever instance answers: the count is in Redis.
    for (const instance of [app, other, app, other, app, other]) {
      statuses.push((await instance.request('POST', '/session', { user })).status);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
    const blocked = await app.request('POST', '/session', { user });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another user from the same address is not affected.
    expect((await app.request('POST', '/session', { user: 'another-user' })).status).toBe(201);
    // The probes are never limited (an orchestrator polls them far more often than 5 a minute).
    for (let i = 0; i < 12; i++) {
      expect((await app.request('GET', '/health/live')).status).toBe(200);
      expect((await app.request('GET', '/health/ready')).status).toBe(200);
    }
  });

  it('unknown routes are 404', async () => {
    expect((await app.request('GET', '/no/such/route')).status).toBe(404);
  });

  it('logs each request once with its request id, and the user id from the session', async () => {
    const res = await fetch(`${app.url}/cache/greeting`, { headers: { 'x-request-id': 'log-check-1' } });
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(app.output.includes('log-check-1'), 'the request log line').toBe(true), {
      timeout: 5000,
      interval: 20,
    });
    const lines = app.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const mine = lines.filter((l) => l.requestId === 'log-check-1');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ method: 'GET', route: '/cache/:key', status: 200 });
    expect(typeof mine[0].durationMs).toBe('number');
    expect(lines.some((l) => l.userId === 'ada')).toBe(true);
  });

  it('with LOG_LEVEL=debug, no secret value appears anywhere in the output', async () => {
    await app.stop();
    expect(app.output).toContain('"level":"debug"');
    for (const value of [REDIS_PASSWORD, SENTINEL_PASSWORD, SESSION_SECRET]) {
      expect(app.output).not.toContain(value);
      expect(app.output).not.toContain(value.slice(0, 12));
    }
  });
});
