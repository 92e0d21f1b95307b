/**
 * Grafana provisioning: the Loki datasource, the dashboard provider and the sample-app dashboard
 * (log volume by level, errors, a request-id search, failover events), wired to each other and
 * to the paths the Compose files mount them at.
 */
import { parse } from 'yaml';
import { loadCompose, readDockerFile, STACKS } from './stack-files.js';

type Target = { expr: string; datasource: { uid: string } };
type Panel = {
  id: number;
  type: string;
  title: string;
  datasource: { uid: string; type: string };
  targets: Target[];
};
type Dashboard = {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
  annotations: { list: { expr: string; datasource: { uid: string } }[] };
};

const datasources = parse(readDockerFile('grafana/provisioning/datasources/datasources.yaml')) as {
  apiVersion: number;
  datasources: {
    uid: string;
    type: string;
    url: string;
    jsonData: { derivedFields?: { datasourceUid: string }[] };
  }[];
};
const providers = parse(readDockerFile('grafana/provisioning/dashboards/bastion.yaml')) as {
  apiVersion: number;
  providers: { type: string; options: { path: string } }[];
};
const dashboard = JSON.parse(readDockerFile('grafana/dashboards/sample-app.json')) as Dashboard;
const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
const panelByTitle = (re: RegExp) => dashboard.panels.find((p) => re.test(p.title));

/** Minimal LogQL sanity: starts with a stream selector (maybe inside an aggregation), balanced quotes and brackets. */
function logqlProblems(expr: string): string[] {
  const problems: string[] = [];
  if (!/^(\w+(\s+by\s*\([^)]*\))?\s*\(\s*)*\{[^}]*\}/.test(expr)) problems.push('no stream selector');
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

describe('Grafana provisioning', () => {
  const loki = datasources.datasources.find((d) => d.type === 'loki')!;

  it('provisions the Loki datasource with a fixed uid', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(loki).toMatchObject({ uid: 'loki', url: 'http://loki:3100' });
    for (const f of loki.jsonData.derivedFields ?? []) expect(f.datasourceUid).toBe(loki.uid);
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

  it('queries only the provisioned datasource, with well-formed LogQL', () => {
    expect(dashboard.uid).toBe('bastion-sample-app');
    for (const p of dashboard.panels) {
      expect(p.datasource.uid, p.title).toBe(loki.uid);
      for (const t of p.targets) {
        expect(t.datasource.uid, p.title).toBe(loki.uid);
        expect(logqlProblems(t.expr), `${p.title}: ${t.expr}`).toEqual([]);
      }
    }
    for (const a of dashboard.annotations.list) expect(a.datasource.uid).toBe(loki.uid);
    // The sanity check itself must be able to fail.
    expect(logqlProblems('sum(count_over_time({service="app"[5m]))')).not.toEqual([]);
  });

  it('has the four views of the issue: volume by level, errors, request id, failover events', () => {
    const volume = panelByTitle(/volume by level/i)!;
    expect(volume.type).toBe('timeseries');
    expect(volume.targets[0]!.expr).toMatch(/sum by \(level\)/);

    const errors = panelByTitle(/^errors/i)!;
    expect(errors.type).toBe('logs');
    expect(errors.targets[0]!.expr).toMatch(/level=~"error/);

    const vars = dashboard.templating.list;
    expect(vars.find((v) => v.name === 'request_id')?.type).toBe('textbox');
    const request = panelByTitle(/request/i)!;
    expect(request.targets[0]!.expr).toContain('$request_id');
    // The app's JSON field name (issue 5's log line format).
    expect(request.targets[0]!.expr).toContain('requestId');

    const failover = panelByTitle(/failover events/i)!;
    const failoverExprs = failover.targets.map((t) => t.expr).join('\n');
    expect(failoverExprs).toContain('RedisSentinel');
    expect(failoverExprs).toContain('switch-master');
    expect(exprs.filter((e) => e.includes('$service')).length).toBeGreaterThanOrEqual(3);
  });
});
