import { randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vi } from 'vitest';
import { triggerFailoverWithRetry } from '../support/sentinel-clock.js';
import { parsePrometheusText } from '../support/prometheus-text.js';
import { useTopology } from '../support/use-topology.js';
import { AppProcess, secretsDir } from './app-process.js';

const REDIS_PASSWORD = 'metrics-redis-pw-Kq2rT7vB';
const SENTINEL_PASSWORD = 'metrics-sentinel-pw-Xs9pL4nD';
const LOKI_PASSWORD = 'metrics-loki-pw-Hc3wZ8qM';
const LOKI_PASSWORD_ROTATED = 'metrics-loki-pw-rotated-Pf6yN1sJ';

/** `bastion_redis_durable_writes_total{outcome}` in a scrape. */
const outcome = (s: Map<string, number>, o: 'confirmed' | 'unconfirmed' | 'refused'): number =>
  s.get(`bastion_redis_durable_writes_total{outcome="${o}"}`)!;

describe('sample app GET /metrics (built app, real Sentinel topology)', () => {
  const topo = useTopology({ password: REDIS_PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
  let app: AppProcess;
  let secrets: ReturnType<typeof secretsDir>;

  beforeAll(async () => {
    secrets = secretsDir({
      redis_password: REDIS_PASSWORD,
      sentinel_password: SENTINEL_PASSWORD,
      // Read at every Loki push: the secret this app takes in rotation without a restart.
      loki_password: LOKI_PASSWORD,
    });
    app = await AppProcess.spawn({ REDIS_SENTINELS: topo.sentinelList, SECRETS_DIR: secrets.dir });
    await app.ready();
  });

  afterAll(async () => {
    await app?.stop();
    secrets?.remove();
  });

  it('serves the secrets metrics and Node process metrics in the Prometheus text format, without a secret', async () => {
    const res = await fetch(`${app.url}/metrics`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const s = parsePrometheusText(text);
    expect(s.get('bastion_secrets_loads_total')).toBe(1);
    expect(s.get('bastion_secrets_loaded{secret="redis_password"}')).toBe(1);
    expect(s.get('bastion_secrets_rotations_total{secret="redis_password"}')).toBe(0);
    expect(s.get('bastion_secrets_age_seconds{secret="redis_password"}')).toBeGreaterThanOrEqual(0);
    expect(s.has('process_cpu_user_seconds_total')).toBe(true);
    expect(text).not.toContain(REDIS_PASSWORD);
    expect(text).not.toContain(SENTINEL_PASSWORD);
    // Scrapes are not request-logged and get no session cookie.
    expect(res.headers.get('set-cookie')).toBeNull();
    await app.request('GET', '/health/live');
    expect(app.stdout).not.toMatch(/"url":"\/metrics"|GET \/metrics/);
  });

  const scrape = async (): Promise<Map<string, number>> =>
    parsePrometheusText((await app.request('GET', '/metrics')).body as string);

  it('moves the Redis series on a failover: failovers, the master address, the failover duration', async () => {
    const before = await scrape();
    const oldMaster = `127.0.0.1:${(await topo.currentMasterPort())!}`;
    expect(before.get(`bastion_redis_master_info{address="${oldMaster}"}`)).toBe(1);
    expect(before.get('bastion_redis_client_ready{client="default"}')).toBe(1);
    expect(before.get('bastion_redis_failovers_total')).toBe(0);
    await triggerFailoverWithRetry(topo);
    await vi.waitFor(
      async () => {
        const after = await scrape();
        expect(after.get('bastion_redis_failovers_total')).toBe(1);
        expect(after.get('bastion_redis_failover_seconds_count')).toBe(1);
        expect(after.has(`bastion_redis_master_info{address="${oldMaster}"}`)).toBe(false);
      },
      { timeout: 20_000, interval: 100 },
    );
    const newMaster = `127.0.0.1:${(await topo.currentMasterPort())!}`;
    expect((await scrape()).get(`bastion_redis_master_info{address="${newMaster}"}`)).toBe(1);
  });

  it('moves the secret series on a rotation: rotations 0 → 1, the age starts again, no value in the scrape', async () => {
    const ROTATIONS = 'bastion_secrets_rotations_total{secret="loki_password"}';
    const AGE = 'bastion_secrets_age_seconds{secret="loki_password"}';
    // An age that a reset visibly shortens (this test may run alone, right after the boot).
    const before = await vi.waitFor(
      async () => {
        const s = await scrape();
        expect(s.get(AGE)).toBeGreaterThanOrEqual(1);
        return s;
      },
      { timeout: 5_000, interval: 200 },
    );
    expect(before.get(ROTATIONS)).toBe(0);
    expect(before.get('bastion_secrets_loaded{secret="loki_password"}')).toBe(1);
    const ageBefore = before.get(AGE)!;

    // Replaced whole (written aside, then renamed over it), as a platform swaps a mounted secret;
    // the app watches SECRETS_DIR.
    const aside = join(secrets.dir, '.loki_password.new');
    writeFileSync(aside, LOKI_PASSWORD_ROTATED + '\n', { mode: 0o600 });
    renameSync(aside, join(secrets.dir, 'loki_password'));
    const after = await vi.waitFor(
      async () => {
        const s = await scrape();
        expect(s.get(ROTATIONS)).toBe(1);
        return s;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(after.get(AGE)).toBeLessThan(ageBefore);
    expect(after.get('bastion_secrets_load_errors_total{secret="loki_password"}')).toBe(0);
    // Only that secret rotated.
    expect(after.get('bastion_secrets_rotations_total{secret="redis_password"}')).toBe(0);
    expect(after.get('bastion_secrets_loads_total')).toBeGreaterThanOrEqual(2);
    const text = (await app.request('GET', '/metrics')).body as string;
    for (const value of [LOKI_PASSWORD, LOKI_PASSWORD_ROTATED, REDIS_PASSWORD, SENTINEL_PASSWORD]) {
      expect(text).not.toContain(value);
      expect(app.output).not.toContain(value);
    }
  });

  it('counts durable-write outcomes of POST /jobs: confirmed, then refused (503) while a Sentinel is frozen', async () => {
    // Accepted once a replica acknowledges (after the failover above, the replicas may still be
    // re-pointed by Sentinel: retried until then).
    const accepted = await vi.waitFor(
      async () => {
        const before = await scrape();
        const res = await app.request('POST', '/jobs', { payload: { n: 1 } });
        expect(res.status).toBe(202);
        return { before, after: await scrape() };
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(outcome(accepted.after, 'confirmed')).toBe(outcome(accepted.before, 'confirmed') + 1);
    expect(outcome(accepted.after, 'refused')).toBe(outcome(accepted.before, 'refused'));
    expect(accepted.after.get('bastion_redis_sentinels')).toBe(3);
    expect(accepted.after.get('bastion_redis_sentinels_reachable')).toBe(3);

    const frozen = topo.sentinels[0]!;
    topo.freeze(frozen);
    try {
      // The watcher stops hearing it after 3 s without an answer to its PINGs.
      await vi.waitFor(
        async () => expect((await scrape()).get('bastion_redis_sentinels_reachable')).toBe(2),
        { timeout: 10_000, interval: 100 },
      );
      const before = await scrape();
      expect(before.get('bastion_redis_sentinels')).toBe(3);
      const id = randomUUID();
      const res = await app.request(
        'POST',
        '/jobs',
        { payload: { n: 2 } },
        { headers: { 'idempotency-key': id } },
      );
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body).toMatchObject({ code: 'REDIS_UNAVAILABLE', retryable: true });
      const after = await scrape();
      expect(outcome(after, 'refused')).toBe(outcome(before, 'refused') + 1);
      expect(outcome(after, 'confirmed')).toBe(outcome(before, 'confirmed'));
      expect(outcome(after, 'unconfirmed')).toBe(outcome(before, 'unconfirmed'));
      // Refused before writing: no such job.
      expect((await app.request('GET', `/jobs/${id}`)).status).toBe(404);
    } finally {
      topo.thaw(frozen);
    }
    // Heard again, and durable writes accepted again, before the next test.
    await vi.waitFor(
      async () => {
        expect((await scrape()).get('bastion_redis_sentinels_reachable')).toBe(3);
        expect((await app.request('POST', '/jobs', { payload: { n: 3 } })).status).toBe(202);
      },
      { timeout: 15_000, interval: 200 },
    );
  });

  it('METRICS_ENABLED=false: no /metrics route (404), the app serves all the same', async () => {
    const bare = await AppProcess.spawn({
      REDIS_SENTINELS: topo.sentinelList,
      SECRETS_DIR: secrets.dir,
      METRICS_ENABLED: 'false',
    });
    try {
      await bare.ready();
      expect((await bare.request('GET', '/metrics')).status).toBe(404);
      expect((await bare.request('GET', '/health/ready')).status).toBe(200);
      expect((await bare.request('PUT', '/cache/metrics-off', { value: 'v' })).status).toBe(204);
      // Read from a replica: there once replication caught up.
      await vi.waitFor(
        async () =>
          expect((await bare.request('GET', '/cache/metrics-off')).body).toEqual({
            key: 'metrics-off',
            value: 'v',
          }),
        { timeout: 5_000, interval: 100 },
      );
    } finally {
      expect(await bare.stop()).toEqual({ code: 0, signal: null });
    }
    // The app with metrics still serves them.
    expect((await app.request('GET', '/metrics')).status).toBe(200);
  });
});
