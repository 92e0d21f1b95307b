import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisTopology } from '@bastion/redis-topology';
import { FakeLoki } from '../fake-loki/fake-loki.js';
import { parsePrometheusText } from '../support/prometheus-text.js';
import { AppProcess, secretsDir } from './app-process.js';

const REDIS_PASSWORD = 'loki-e2e-redis-pw-77';
const LOKI_PASSWORD = 'loki-e2e-basic-auth-pw-31';

/** The value of one series in a Prometheus text scrape (NaN when absent). */
function value(text: string, series: string): number {
  return parsePrometheusText(text).get(series) ?? Number.NaN;
}

describe('sample app with LOKI_URL (fake Loki speaking the push API)', () => {
  let topo: RedisTopology;
  let loki: FakeLoki;
  let app: AppProcess;
  let secrets: ReturnType<typeof secretsDir>;

  beforeAll(async () => {
    [topo, loki] = await Promise.all([
      RedisTopology.start({ password: REDIS_PASSWORD, replicas: 1 }),
      FakeLoki.start({ requireTenant: true }),
    ]);
    secrets = secretsDir({ redis_password: REDIS_PASSWORD, loki_password: LOKI_PASSWORD });
    app = await AppProcess.spawn({
      REDIS_SENTINELS: topo.sentinelList,
      SECRETS_DIR: secrets.dir,
      LOKI_URL: loki.url,
      LOKI_TENANT: 'team-a',
      LOKI_USERNAME: 'shipper',
      SERVICE_NAME: 'sample-e2e',
    });
    await app.ready();
  });

  afterAll(async () => {
    await app?.stop();
    await Promise.all([topo?.teardown(), loki?.close()]);
    secrets?.remove();
  });

  it('pushes request lines to Loki with the tenant, basic auth and the service label', async () => {
    const res = await fetch(`${app.url}/cache/none`, { headers: { 'x-request-id': 'loki-req-1' } });
    expect(res.status).toBe(404);
    await vi.waitFor(
      () =>
        expect(
          loki.lines().some((l) => l.includes('loki-req-1')),
          'the request line in Loki',
        ).toBe(true),
      { timeout: 10_000, interval: 20 },
    );
    const entry = loki.entries.find((e) => e.line.includes('loki-req-1'))!;
    expect(entry.tenant).toBe('team-a');
    expect(entry.labels.service_name).toBe('sample-e2e');
    const auth = loki.pushes.at(-1)!.headers.authorization!;
    expect(Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString()).toBe(`shipper:${LOKI_PASSWORD}`);
    // The request id is a line field or structured metadata, never a label (cardinality).
    expect(entry.labels).not.toHaveProperty('requestId');
  });

  it('/health/ready reports loki; a Loki outage degrades it but keeps the app ready (200)', async () => {
    const up = await app.request('GET', '/health/ready');
    expect(up.status).toBe(200);
    expect(up.body.details.loki.status).toBe('up');

    await loki.refuse();
    try {
      await vi.waitFor(
        async () => {
          await app.request('GET', '/cache/during-outage'); // produce lines to ship
          const r = await app.request('GET', '/health/ready');
          expect(
            r.status === 200 && r.body.details.loki.status === 'degraded',
            'loki degraded while the app stays ready',
          ).toBe(true);
        },
        { timeout: 15_000, interval: 20 },
      );
    } finally {
      await loki.accept();
    }
    expect(app.output).not.toContain(LOKI_PASSWORD);
  });

  const scrape = async (): Promise<string> => (await app.request('GET', '/metrics')).body as string;

  it('GET /metrics: lines shipped, then pushes that found no Loki while it refuses connections', async () => {
    await vi.waitFor(
      async () => expect(value(await scrape(), 'bastion_loki_lines_shipped_total')).toBeGreaterThan(0),
      { timeout: 10_000, interval: 100 },
    );
    const before = value(await scrape(), 'bastion_loki_pushes_total{outcome="network"}');
    await loki.refuse();
    try {
      await vi.waitFor(
        async () => {
          await app.request('GET', '/cache/during-outage'); // produce lines to ship
          const text = await scrape();
          expect(value(text, 'bastion_loki_pushes_total{outcome="network"}')).toBeGreaterThan(before);
          expect(value(text, 'bastion_loki_buffered_lines')).toBeGreaterThan(0);
        },
        { timeout: 15_000, interval: 100 },
      );
    } finally {
      await loki.accept();
    }
    const text = await scrape();
    expect(text).not.toContain(LOKI_PASSWORD);
    expect(text).not.toContain(REDIS_PASSWORD);
  });
});
