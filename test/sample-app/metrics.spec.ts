import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vi } from 'vitest';
import { triggerFailoverWithRetry } from '../support/sentinel-clock.js';
import { parsePrometheusText } from '../support/prometheus-text.js';
import { useTopology } from '../support/use-topology.js';
import { AppProcess, secretsDir } from './app-process.js';

const REDIS_PASSWORD = 'metrics-redis-pw-Kq2rT7vB';
const SENTINEL_PASSWORD = 'metrics-sentinel-pw-Xs9pL4nD';

describe('sample app GET /metrics (built app, real Sentinel topology)', () => {
  const topo = useTopology({ password: REDIS_PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
  let app: AppProcess;
  let secrets: ReturnType<typeof secretsDir>;

  beforeAll(async () => {
    secrets = secretsDir({ redis_password: REDIS_PASSWORD, sentinel_password: SENTINEL_PASSWORD });
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
});
