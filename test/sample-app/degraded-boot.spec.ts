import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { useTopology } from '../support/use-topology.js';
import { AppProcess, secretsDir } from './app-process.js';

const REDIS_PASSWORD = 'noreplicas-redis-pw-5';

describe('sample app booting while the master refuses writes (min-replicas-to-write, replicas down)', () => {
  const topo = useTopology({
    password: REDIS_PASSWORD,
    extraDataConfig: ['min-replicas-to-write 1', 'min-replicas-max-lag 1'],
  });
  let app: AppProcess;
  let secrets: ReturnType<typeof secretsDir>;

  beforeAll(async () => {
    secrets = secretsDir({ redis_password: REDIS_PASSWORD });
  });

  afterAll(async () => {
    await app?.stop();
    secrets?.remove();
  });

  it('boots and answers 503 to jobs (NOREPLICAS), then accepts and completes them once a replica is back', async () => {
    for (const r of topo.replicas) await topo.kill(r);
    await topo.waitUntil(
      async () => /min_slaves_good_slaves:0/.test(await topo.command(topo.master, 'INFO', 'replication')),
      'the master to count no good replica',
      10_000,
    );
    app = await AppProcess.spawn({ REDIS_SENTINELS: topo.sentinelList, SECRETS_DIR: secrets.dir });
    await app.ready();
    const refused = await app.request('POST', '/jobs', { payload: 1 });
    expect(refused.status).toBe(503);
    expect(refused.body.retryable).toBe(true);
    expect(refused.body.code).toBe('REDIS_UNAVAILABLE');
    expect(refused.headers.get('retry-after')).toBe('1');

    for (const r of topo.replicas) await topo.restart(r);
    let id: string | undefined;
    await vi.waitFor(
      async () => {
        const r = await app.request('POST', '/jobs', { payload: 2 });
        if (r.status === 202) id = r.body.id;
        expect(id !== undefined, 'a job to be accepted').toBe(true);
      },
      { timeout: 15_000, interval: 20 },
    );
    await vi.waitFor(
      async () =>
        expect((await app.request('GET', `/jobs/${id}`)).body?.status === 'done', 'the job done').toBe(true),
      { timeout: 15_000, interval: 20 },
    );
  });
});
