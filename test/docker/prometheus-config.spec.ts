/**
 * docker/prometheus/: the Prometheus configs and the runbook's alert rules, checked by the real
 * `promtool` (Debian's prometheus package, 2.42; `.ci/run` installs it): `check config` on both
 * configs (which also loads the rule files they name), `check rules`, and `test rules`, which
 * evaluates every alert against the series in tests/bastion.rules.test.yml. Without promtool the
 * checks are skipped, except under CI=true, where a missing promtool fails.
 * Also: every metric the rules query is one the libs export, and the scrape jobs match the stacks.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DOCKER_DIR, envOf, loadCompose, STACKS } from './stack-files.js';

const PROM_DIR = join(DOCKER_DIR, 'prometheus');
const hasPromtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const requirePromtool = process.env.CI === 'true';

function promtool(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd: PROM_DIR, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** `bastion_*` metric names the libs register (histograms also expose _bucket, _sum and _count). */
export function exportedMetricNames(): Set<string> {
  const libs = new URL('../../libs/', import.meta.url).pathname;
  const names = new Set<string>();
  for (const lib of readdirSync(libs)) {
    const src = join(libs, lib, 'src');
    for (const file of readdirSync(src).filter((f) => f.includes('metrics') && f.endsWith('.ts'))) {
      const text = readFileSync(join(src, file), 'utf8');
      for (const m of text.matchAll(/name: '(bastion_[a-z_]+)'/g)) {
        names.add(m[1]!);
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(m[1]! + suffix);
      }
    }
  }
  return names;
}

interface RulesFile {
  groups: { name: string; rules: { alert?: string; expr: string; for?: string }[] }[];
}
const rules = parse(readFileSync(join(PROM_DIR, 'rules/bastion.rules.yml'), 'utf8')) as RulesFile;
const alerts = rules.groups.flatMap((g) => g.rules);

describe('docker/prometheus: alert rules', () => {
  it('has the runbook alerts: failover storm, unconfirmed durable writes, shipper drops, old secrets', () => {
    expect(alerts.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'BastionRedisFailoverStorm',
        'BastionRedisDurableWritesUnconfirmed',
        'BastionLokiShipperDroppingLines',
        'BastionSecretOlderThanRotationPeriod',
      ]),
    );
  });

  it('queries only metrics the libs export', () => {
    const exported = exportedMetricNames();
    expect(exported.size).toBeGreaterThan(20);
    for (const rule of alerts) {
      const used = [...rule.expr.matchAll(/\bbastion_[a-z_]+/g)].map((m) => m[0]);
      expect(used.length, rule.alert).toBeGreaterThan(0);
      for (const name of used) expect(exported, `${rule.alert}: ${name}`).toContain(name);
    }
  });

  it('every alert is exercised by the promtool rule tests', () => {
    const tests = readFileSync(join(PROM_DIR, 'tests/bastion.rules.test.yml'), 'utf8');
    for (const rule of alerts) expect(tests, rule.alert).toContain(`alertname: ${rule.alert}`);
  });
});

describe('docker/prometheus: scrape configs match the stacks', () => {
  it.each([
    ['prometheus.yml', STACKS.dev, 'app'],
    ['prometheus.yml', STACKS.prod, 'app'],
    ['prometheus.swarm.yml', STACKS.swarm, 'tasks.app'],
  ])('%s scrapes the app service of %s on its port, every instance', (configFile, stack, dnsName) => {
    const config = parse(readFileSync(join(PROM_DIR, configFile), 'utf8')) as {
      scrape_configs: {
        job_name: string;
        metrics_path?: string;
        dns_sd_configs?: { names: string[]; port: number }[];
      }[];
    };
    const job = config.scrape_configs.find((j) => j.job_name === 'sample-app')!;
    expect(job.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job.dns_sd_configs![0]!.names).toEqual([dnsName]);
    const doc = loadCompose(stack);
    const app = doc.services.app!;
    const env = envOf(app);
    expect(job.dns_sd_configs![0]!.port).toBe(Number(env.PORT));
    // Prometheus and the app share a network, and Prometheus mounts this config and the rules.
    const nets = (s: typeof app) => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {}));
    const prometheus = doc.services.prometheus!;
    expect(nets(prometheus).some((n) => nets(app).includes(n))).toBe(true);
    const configs = (prometheus.configs ?? []) as { source: string; target: string }[];
    const files = configs.map((c) => (doc.configs as Record<string, { file: string }>)[c.source]!.file);
    expect(files.some((f) => f.endsWith(`prometheus/${configFile}`))).toBe(true);
    expect(files.some((f) => f.endsWith('prometheus/rules/bastion.rules.yml'))).toBe(true);
    expect(configs.map((c) => c.target)).toContain('/etc/prometheus/rules/bastion.rules.yml');
  });
});

describe.skipIf(!hasPromtool && !requirePromtool)(
  `docker/prometheus with promtool${hasPromtool ? '' : ' (missing: install Debian package prometheus)'}`,
  () => {
    it('promtool is installed', () => {
      expect(hasPromtool, 'promtool not found: apt-get install --no-install-recommends prometheus').toBe(
        true,
      );
    });

    it.each(['prometheus.yml', 'prometheus.swarm.yml'])(
      'promtool check config %s (rules included)',
      (file) => {
        const r = promtool('check', 'config', file);
        expect(r.out).toContain('SUCCESS: 1 rule files found');
        expect(r.status, r.out).toBe(0);
      },
    );

    it('promtool check rules', () => {
      const r = promtool('check', 'rules', 'rules/bastion.rules.yml');
      expect(r.out).toContain(`SUCCESS: ${alerts.length} rules found`);
      expect(r.status, r.out).toBe(0);
    });

    it('promtool test rules: every alert fires on its case and stays quiet on the ordinary one', () => {
      const r = promtool('test', 'rules', 'tests/bastion.rules.test.yml');
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('SUCCESS');
    });

    it('promtool check config rejects a broken config (the check is not a no-op)', () => {
      const r = spawnSync('promtool', ['check', 'config', '/dev/stdin'], {
        input: 'scrape_configs:\n  - job_name: x\n    scrape_interval: fast\n',
        encoding: 'utf8',
      });
      expect(r.status).not.toBe(0);
    });
  },
);
