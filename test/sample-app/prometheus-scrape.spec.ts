/**
 * A real Prometheus (Debian's 2.42 binary; `.ci/run` installs it) scrapes the built sample app's
 * GET /metrics and evaluates the runbook's alert rules (docker/prometheus/rules/) on what it
 * scraped: the exposition parses, every lib's series arrive, and every rule evaluates without
 * error. The config is docker/prometheus/prometheus.yml with its Docker DNS discovery replaced by
 * the app's loopback address. Skipped without a `prometheus` binary, except under CI=true.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@bastion/redis-topology';
import { parse, stringify } from 'yaml';
import { useTopology } from '../support/use-topology.js';
import { AppProcess, secretsDir } from './app-process.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const hasPrometheus = spawnSync('prometheus', ['--version'], { encoding: 'utf8' }).status === 0;
const requirePrometheus = process.env.CI === 'true';

const REDIS_PASSWORD = 'prom-scrape-redis-pw-Vb7nQ2xK';
const SENTINEL_PASSWORD = 'prom-scrape-sentinel-pw-Lm4tR8cW';

interface PromResponse<T> {
  status: string;
  data: T;
}

describe.skipIf(!hasPrometheus && !requirePrometheus)(
  `a real Prometheus scraping the sample app${hasPrometheus ? '' : ' (skipped: no prometheus binary)'}`,
  () => {
    const topo = useTopology({ password: REDIS_PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
    let app: AppProcess;
    let secrets: ReturnType<typeof secretsDir>;
    let prometheus: ChildProcess | undefined;
    let promUrl = '';
    let promLog = '';
    const work = mkdtempSync(join(tmpdir(), 'bastion-prometheus-'));

    const api = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${promUrl}${path}`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as PromResponse<T>;
      expect(body.status, JSON.stringify(body)).toBe('success');
      return body.data;
    };

    beforeAll(async () => {
      expect(hasPrometheus, 'prometheus not found: apt-get install --no-install-recommends prometheus').toBe(
        true,
      );
      secrets = secretsDir({ redis_password: REDIS_PASSWORD, sentinel_password: SENTINEL_PASSWORD });
      app = await AppProcess.spawn({ REDIS_SENTINELS: topo.sentinelList, SECRETS_DIR: secrets.dir });
      await app.ready();

      const config = parse(readFileSync(join(repo, 'docker/prometheus/prometheus.yml'), 'utf8')) as {
        global: Record<string, string>;
        rule_files: string[];
        scrape_configs: Record<string, unknown>[];
      };
      // Seconds instead of the deployment's 15 s, so the test waits for a scrape, not a minute.
      config.global.scrape_interval = '1s';
      config.global.evaluation_interval = '1s';
      config.global.scrape_timeout = '1s';
      config.rule_files = [join(repo, 'docker/prometheus/rules/bastion.rules.yml')];
      const job = config.scrape_configs.find((j) => j.job_name === 'sample-app')!;
      delete job.dns_sd_configs;
      job.static_configs = [{ targets: [`127.0.0.1:${app.port}`] }];
      config.scrape_configs = [job];
      writeFileSync(join(work, 'prometheus.yml'), stringify(config));

      const port = await freePort();
      promUrl = `http://127.0.0.1:${port}`;
      prometheus = spawn(
        'prometheus',
        [
          `--config.file=${join(work, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(work, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prometheus.stdout!.on('data', (d: Buffer) => (promLog += d.toString()));
      prometheus.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
      await vi.waitFor(
        async () => {
          const res = await fetch(`${promUrl}/-/ready`, { signal: AbortSignal.timeout(1000) });
          expect(res.status, promLog.slice(-2000)).toBe(200);
        },
        { timeout: 30_000, interval: 250 },
      );
    });

    afterAll(async () => {
      if (prometheus && prometheus.exitCode === null) {
        const exited = new Promise((r) => prometheus!.once('exit', r));
        prometheus.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        prometheus.kill('SIGKILL');
      }
      await app?.stop();
      secrets?.remove();
      rmSync(work, { recursive: true, force: true });
    });

    it('scrapes the app (target up) and stores the series of all three libs', async () => {
      await vi.waitFor(
        async () => {
          const targets = await api<{ activeTargets: { health: string; lastError: string }[] }>(
            '/api/v1/targets',
          );
          expect(targets.activeTargets).toHaveLength(1);
          expect(targets.activeTargets[0]!.lastError).toBe('');
          expect(targets.activeTargets[0]!.health).toBe('up');
        },
        { timeout: 20_000, interval: 250 },
      );
      const names = await api<string[]>('/api/v1/label/__name__/values');
      for (const name of [
        'bastion_redis_client_ready',
        'bastion_redis_master_info',
        'bastion_redis_sentinels_reachable',
        'bastion_redis_failovers_total',
        'bastion_loki_stdout_buffered_bytes',
        'bastion_secrets_age_seconds',
        'bastion_secrets_loaded',
        'process_cpu_user_seconds_total',
      ])
        expect(names, name).toContain(name);
      const ready = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent('bastion_redis_client_ready{client="default"}')}`,
      );
      expect(ready.result).toHaveLength(1);
      expect(ready.result[0]!.metric.job).toBe('sample-app');
      expect(ready.result[0]!.value[1]).toBe('1');
    });

    it('evaluates every alert rule on the scraped series without an error, none firing on a healthy app', async () => {
      await vi.waitFor(
        async () => {
          const data = await api<{
            groups: { rules: { name: string; health: string; lastError?: string; state: string }[] }[];
          }>('/api/v1/rules');
          const all = data.groups.flatMap((g) => g.rules);
          expect(all.length).toBeGreaterThanOrEqual(4);
          for (const rule of all) {
            expect(rule.health, `${rule.name}: ${rule.lastError ?? ''}`).toBe('ok');
            expect(rule.state, rule.name).toBe('inactive');
          }
        },
        { timeout: 20_000, interval: 250 },
      );
    });
  },
);
