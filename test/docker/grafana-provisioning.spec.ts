/**
 * Grafana provisioning: the Loki and Prometheus datasources, the dashboard provider and the
 * sample-app dashboard (log volume by level, errors, a request-id search, failover events, and the
 * libs' metrics), wired to each other, to the paths the stacks mount them at, to the stacks'
 * prometheus service and to the metric names the libs export. With promtool (Debian's prometheus
 * package) every PromQL query is parsed for real; without it that check is skipped, except under
 * CI=true.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { runWithLogContext } from '@bastion/loki-logger';
import { parse, stringify } from 'yaml';
import { createLogger } from '../loki-logger/helpers.js';
import { loadCompose, readDockerFile, STACKS, type ComposeService } from './stack-files.js';

type Ref = { uid: string; type: string };
type Target = { refId: string; expr: string; datasource: Ref };
type Panel = {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: Ref;
  targets?: Target[];
};
type Dashboard = {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; datasource?: Ref }[] };
  annotations: { list: { expr: string; datasource: Ref }[] };
};
type DerivedField = {
  name: string;
  matcherType?: string;
  matcherRegex: string;
  url: string;
  datasourceUid?: string;
};
type Datasource = {
  name: string;
  uid: string;
  type: string;
  url: string;
  isDefault?: boolean;
  jsonData: { derivedFields?: DerivedField[]; timeInterval?: string };
};

const datasources = parse(readDockerFile('grafana/provisioning/datasources/datasources.yaml')) as {
  apiVersion: number;
  datasources: Datasource[];
};
const providers = parse(readDockerFile('grafana/provisioning/dashboards/bastion.yaml')) as {
  apiVersion: number;
  providers: { type: string; options: { path: string } }[];
};
const dashboard = JSON.parse(readDockerFile('grafana/dashboards/sample-app.json')) as Dashboard;
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = queryPanels.flatMap((p) => p.targets!.map((t) => t.expr));
const panelByTitle = (re: RegExp) => dashboard.panels.find((p) => re.test(p.title));
const byUid = new Map(datasources.datasources.map((d) => [d.uid, d]));
const promTargets = queryPanels.flatMap((p) =>
  p.targets!.filter((t) => t.datasource.uid === 'prometheus').map((t) => ({ panel: p.title, ...t })),
);

/** Minimal LogQL sanity: starts with a stream selector (maybe inside an aggregation), balanced quotes and brackets. */
function logqlProblems(expr: string): string[] {
  const problems: string[] = [];
  if (!/^(\w+(\s+by\s*\([^)]*\))?\s*\(\s*)*\{[^}]*\}/.test(expr)) problems.push('no stream selector');
  return [...problems, ...bracketProblems(expr)];
}

function bracketProblems(expr: string): string[] {
  const problems: string[] = [];
  const stripped = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  if ((stripped.match(/"/g) ?? []).length % 2) problems.push('unbalanced quotes');
  for (const [open, close] of [
    ['{', '}'],
    ['(', ')'],
    ['[', ']'],
  ] as const) {
    if (stripped.split(open).length !== stripped.split(close).length)
      problems.push(`unbalanced ${open}${close}`);
  }
  return problems;
}

/** `bastion_*` metric names the libs register (a histogram also exposes _bucket, _sum and _count). */
function exportedMetricNames(): Set<string> {
  const libs = new URL('../../libs/', import.meta.url).pathname;
  const names = new Set<string>();
  for (const lib of readdirSync(libs)) {
    const src = join(libs, lib, 'src');
    for (const file of readdirSync(src).filter((f) => f.includes('metrics') && f.endsWith('.ts'))) {
      for (const m of readFileSync(join(src, file), 'utf8').matchAll(/name: '(bastion_[a-z_]+)'/g)) {
        names.add(m[1]!);
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(m[1]! + suffix);
      }
    }
  }
  return names;
}
const metricNames = (expr: string) => [...expr.matchAll(/\bbastion_[a-z_]+/g)].map((m) => m[0]);

const promConfig = (file: string) =>
  parse(readDockerFile(`prometheus/${file}`)) as {
    global: { scrape_interval: string };
    scrape_configs: { job_name: string }[];
  };
const PROM_CONFIGS = ['prometheus.yml', 'prometheus.swarm.yml'];
const networksOf = (s: ComposeService) =>
  Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {});

describe('Grafana provisioning', () => {
  const loki = datasources.datasources.find((d) => d.type === 'loki')!;
  const prometheus = datasources.datasources.find((d) => d.type === 'prometheus')!;

  it('provisions the Loki datasource with a fixed uid, the only default', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(loki).toMatchObject({ uid: 'loki', url: 'http://loki:3100', isDefault: true });
    expect(datasources.datasources.filter((d) => d.isDefault)).toEqual([loki]);
    expect(new Set(datasources.datasources.map((d) => d.uid)).size).toBe(datasources.datasources.length);
  });

  it('provisions the Prometheus datasource at the prometheus service every stack runs next to Grafana', () => {
    expect(prometheus).toMatchObject({ uid: 'prometheus', url: 'http://prometheus:9090', isDefault: false });
    const host = new URL(prometheus.url);
    for (const file of Object.values(STACKS)) {
      const services = loadCompose(file).services;
      const service = services[host.hostname];
      expect(service, `${file}: service ${host.hostname}`).toBeDefined();
      // Prometheus' own default port: no --web.listen-address moves it elsewhere.
      const flags = (service!.command ?? []) as string[];
      const listen = flags.find((f) => f.startsWith('--web.listen-address'));
      expect(listen === undefined || listen.endsWith(`:${host.port}`), `${file}: ${listen}`).toBe(true);
      expect(host.port).toBe('9090');
      // Grafana reaches it by name only on a network they share.
      const grafanaNets = networksOf(services.grafana!);
      expect(
        networksOf(service!).some((n) => grafanaNets.includes(n)),
        file,
      ).toBe(true);
    }
    // $__rate_interval is derived from timeInterval: it must be the scrape interval.
    for (const file of PROM_CONFIGS)
      expect(prometheus.jsonData.timeInterval, file).toBe(promConfig(file).global.scrape_interval);
  });

  it('points the dashboard provider at the folder the stacks mount the dashboard into', () => {
    expect(providers.apiVersion).toBe(1);
    const path = providers.providers[0]!.options.path;
    for (const file of Object.values(STACKS)) {
      const targets = (loadCompose(file).services.grafana!.configs ?? []).map((c) =>
        typeof c === 'string' ? c : c.target,
      );
      expect(targets).toContain(`${path}/sample-app.json`);
      expect(targets).toContain('/etc/grafana/provisioning/datasources/datasources.yaml');
      expect(targets).toContain('/etc/grafana/provisioning/dashboards/bastion.yaml');
    }
  });

  it('queries only provisioned datasources, each in its own language (LogQL for Loki, PromQL for Prometheus)', () => {
    expect(dashboard.uid).toBe('bastion-sample-app');
    const refs: [string, Ref][] = [
      ...dashboard.annotations.list.map((a) => ['annotation', a.datasource] as [string, Ref]),
      ...dashboard.templating.list.flatMap((v) =>
        v.datasource ? [[`variable ${v.name}`, v.datasource] as [string, Ref]] : [],
      ),
    ];
    for (const p of queryPanels) {
      refs.push([p.title, p.datasource!]);
      expect(p.targets!.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) {
        expect(t.datasource, `${p.title} ${t.refId}`).toEqual(p.datasource);
        const problems = p.datasource!.type === 'loki' ? logqlProblems(t.expr) : bracketProblems(t.expr);
        expect(problems, `${p.title}: ${t.expr}`).toEqual([]);
      }
    }
    for (const [where, ref] of refs) {
      expect(byUid.has(ref.uid), `${where}: uid ${ref.uid}`).toBe(true);
      expect(ref.type, where).toBe(byUid.get(ref.uid)!.type);
    }
    expect(new Set(refs.map(([, r]) => r.uid))).toEqual(new Set(['loki', 'prometheus']));
    // The sanity checks themselves must be able to fail.
    expect(logqlProblems('sum(count_over_time({service="app"[5m]))')).not.toEqual([]);
    expect(bracketProblems('sum(rate(bastion_loki_pushes_total[5m])')).not.toEqual([]);
  });

  it('queries only metrics the libs export, scraped by the sample-app job of the stacks', () => {
    const exported = exportedMetricNames();
    expect(exported.size).toBeGreaterThan(20);
    const jobs = PROM_CONFIGS.map((f) => promConfig(f).scrape_configs.map((j) => j.job_name));
    expect(promTargets.length).toBeGreaterThanOrEqual(10);
    for (const t of promTargets) {
      const where = `${t.panel} ${t.refId}: ${t.expr}`;
      const used = metricNames(t.expr);
      expect(used.length, where).toBeGreaterThan(0);
      for (const name of used) expect(exported, where).toContain(name);
      // Every selector names the job (Prometheus scrapes itself too); the job exists in both configs.
      const selectors = [...t.expr.matchAll(/bastion_[a-z_]+\{([^}]*)\}/g)].map((m) => m[1]!);
      expect(selectors.length, where).toBe(used.length);
      for (const s of selectors) {
        const job = s.match(/\bjob="([^"]+)"/)?.[1];
        for (const list of jobs) expect(list, where).toContain(job);
      }
    }
    // A typo is caught: the counter is bastion_redis_failovers_total.
    expect(exported.has('bastion_redis_failover_total')).toBe(false);
  });

  it('has the four log views of the issue: volume by level, errors, request id, failover events', () => {
    const volume = panelByTitle(/volume by level/i)!;
    expect(volume.type).toBe('timeseries');
    expect(volume.targets![0]!.expr).toMatch(/sum by \(level\)/);

    const errors = panelByTitle(/^errors/i)!;
    expect(errors.type).toBe('logs');
    expect(errors.targets![0]!.expr).toMatch(/level=~"error/);

    const vars = dashboard.templating.list;
    expect(vars.find((v) => v.name === 'request_id')?.type).toBe('textbox');
    const request = panelByTitle(/request/i)!;
    expect(request.targets![0]!.expr).toContain('$request_id');
    // The app's JSON field name (issue 5's log line format).
    expect(request.targets![0]!.expr).toContain('requestId');

    const failover = panelByTitle(/failover events/i)!;
    const failoverExprs = failover.targets!.map((t) => t.expr).join('\n');
    expect(failoverExprs).toContain('RedisSentinel');
    expect(failoverExprs).toContain('switch-master');
    expect(exprs.filter((e) => e.includes('$service')).length).toBeGreaterThanOrEqual(3);
  });

  it('has the metric panels of issue 15 under a Prometheus row', () => {
    const row = dashboard.panels.find((p) => p.type === 'row' && /prometheus/i.test(p.title))!;
    expect(row, 'row "Metrics (Prometheus)"').toBeDefined();
    const metricPanel = (re: RegExp) => {
      const p = queryPanels.find((q) => q.datasource!.uid === 'prometheus' && re.test(q.title));
      expect(p, String(re)).toBeDefined();
      expect(p!.gridPos.y, p!.title).toBeGreaterThan(row.gridPos.y);
      return p!.targets!.map((t) => t.expr).join('\n');
    };
    expect(metricPanel(/failovers/i)).toMatch(/increase\(bastion_redis_failovers_total\{/);
    const duration = metricPanel(/failover duration/i);
    expect(duration).toMatch(
      /histogram_quantile\(0\.5, sum by \(le\) \(\w+\(bastion_redis_failover_seconds_bucket/,
    );
    expect(duration).toMatch(/histogram_quantile\(0\.99, /);
    expect(duration).toContain('bastion_redis_last_failover_seconds{');
    expect(metricPanel(/durable writes/i)).toMatch(
      /sum by \(outcome\) \(rate\(bastion_redis_durable_writes_total\{/,
    );
    const sentinels = metricPanel(/sentinels/i);
    expect(sentinels).toContain('bastion_redis_sentinels_reachable{');
    expect(sentinels).toContain('bastion_redis_sentinels{');
    const drops = metricPanel(/dropped/i);
    expect(drops).toMatch(/sum by \(reason\) \(rate\(bastion_loki_lines_dropped_total\{/);
    expect(drops).toContain('bastion_loki_stdout_dropped_lines_total{');
    expect(metricPanel(/pushes/i)).toMatch(/sum by \(outcome\) \(rate\(bastion_loki_pushes_total\{/);
    const waiting = metricPanel(/waiting/i);
    for (const name of ['bastion_loki_buffered_lines', 'bastion_loki_buffered_bytes']) {
      expect(waiting).toContain(`${name}{`);
    }
    expect(metricPanel(/secret age/i)).toMatch(/by \(secret\) \(bastion_secrets_age_seconds\{/);
    expect(metricPanel(/rotations/i)).toContain('bastion_secrets_rotations_total{');
  });

  it('lays the panels out on the 24-column grid without overlaps', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Map<string, string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x >= 0 && w > 0 && h > 0 && x + w <= 24, p.title).toBe(true);
      for (let row = y; row < y + h; row++)
        for (let col = x; col < x + w; col++) {
          const key = `${row}:${col}`;
          expect(cells.get(key), `${p.title} overlaps at ${key}`).toBeUndefined();
          cells.set(key, p.title);
        }
    }
  });
});

/** Applies a derived field the way Grafana does for a regex matcher: `line.match(matcherRegex)[1]`. */
const derive = (field: DerivedField, line: string) => line.match(field.matcherRegex)?.[1] ?? null;

describe('Grafana: trace link from a log line (derived field)', () => {
  const loki = datasources.datasources.find((d) => d.type === 'loki')!;
  const fields = loki.jsonData.derivedFields ?? [];
  const traceField = fields.find((f) => f.datasourceUid === 'tempo')!;
  const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
  });
  afterAll(() => {
    context.disable();
  });

  it('every derived field links to a datasource that is provisioned, or to tempo (optional, documented)', () => {
    for (const f of fields) {
      expect(f.datasourceUid === 'tempo' || byUid.has(f.datasourceUid!), f.name).toBe(true);
      // Grafana expands $VAR in provisioning files: Grafana's own ${...} must be written $${...}.
      expect(f.url.replace(/\$\$\{/g, ''), f.name).not.toContain('${');
      // One name per field: Grafana groups derived fields by name and applies the first matcher only.
      expect(
        fields.filter((g) => g.name === f.name),
        f.name,
      ).toHaveLength(1);
    }
    expect(byUid.has('tempo')).toBe(false);
    expect(traceField).toMatchObject({
      matcherType: 'regex',
      datasourceUid: 'tempo',
      url: '$${__value.raw}',
    });
    expect(traceField.matcherRegex).toContain('trace_id');
  });

  it("takes the trace id out of the real logger's line inside a span, and nothing outside one", async () => {
    const { logger, out } = createLogger();
    const span = trace.wrapSpanContext({
      traceId: TRACE_ID,
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    });
    context.with(trace.setSpan(context.active(), span), () => logger.log('inside a span', 'Orders'));
    // A bare traceparent (no OpenTelemetry span) gives traceId only: no trace to open.
    runWithLogContext({ requestId: 'req-1', traceId: TRACE_ID }, () => logger.log('traceparent only'));
    logger.log('outside');
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => derive(traceField, l))).toEqual([TRACE_ID, null, null]);
    // The request-id field still works beside it.
    const requestField = fields.find((f) => f.datasourceUid === 'loki')!;
    expect(derive(requestField, lines[1]!)).toBe('req-1');
    await logger.onApplicationShutdown();
  });
});

const hasPromtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const requirePromtool = process.env.CI === 'true';

/** `promtool check rules` on recording rules made of the queries: a real PromQL parse. */
function checkExprs(list: string[]): { status: number | null; out: string } {
  // Grafana's interval variables, replaced as Grafana would before sending the query.
  const concrete = list.map((e) => e.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m'));
  const dir = mkdtempSync(join(tmpdir(), 'grafana-promql-'));
  try {
    const file = join(dir, 'dashboard.rules.yml');
    const rules = concrete.map((expr, i) => ({ record: `dashboard:query_${i}`, expr }));
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!hasPromtool && !requirePromtool)('Grafana: PromQL parsed by promtool', () => {
  it('promtool is installed', () => {
    expect(hasPromtool, 'promtool not found: apt-get install --no-install-recommends prometheus').toBe(true);
  });

  it('every PromQL query of the dashboard parses', () => {
    const r = checkExprs(promTargets.map((t) => t.expr));
    expect(r.out).toContain(`SUCCESS: ${promTargets.length} rules found`);
    expect(r.status, r.out).toBe(0);
  });

  it('rejects a malformed query (the check is not a no-op)', () => {
    const r = checkExprs(['sum by (outcome) rate(bastion_loki_pushes_total[5m])']);
    expect(r.status).not.toBe(0);
  });
});
