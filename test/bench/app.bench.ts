/**
 * `npm run bench:app`: throughput and latency of the built sample app on loopback against a real
 * Sentinel topology, steady state side by side with a run through a master SIGKILL.
 *
 * The first row is the baseline of `GET /health/ready`: the same built app, run first and alone,
 * on `@bastion/redis-sentinel` as of `--baseline-ref` (default c289d37, the last commit whose
 * health indicator opened new Sentinel connections per call; built once into node_modules/.cache).
 *
 * Each steady-state row is measured after 1 s of unrecorded load on the same route (JIT warm-up).
 *
 * Flags: --concurrency N (default 16), --seconds N (per steady-state endpoint, default 5),
 * --baseline-ref REF (a commit; "none" skips the baseline row).
 * The load generator runs in this process on the same 2-core machine as the app and Redis, so
 * absolute numbers are conservative; compare columns, not machines.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { RedisTopology } from '@bastion/redis-topology';
import { AppProcess, secretsDir } from '../sample-app/app-process.js';
import { redisSentinelAt } from './redis-sentinel-baseline.js';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '5' },
    'baseline-ref': { type: 'string', default: 'c289d37' },
  },
});
const CONCURRENCY = Number(values.concurrency);
const SECONDS = Number(values.seconds);
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

interface Stats {
  ok: number;
  errors: number;
  latencies: number[];
  longestMs: number;
  seconds: number;
}

function request(port: number, method: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        timeout: 10_000,
        headers: body
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
          : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

async function load(
  port: number,
  method: string,
  path: string,
  body: string | undefined,
  okStatus: number,
  until: () => boolean,
): Promise<Stats> {
  const stats: Stats = { ok: 0, errors: 0, latencies: [], longestMs: 0, seconds: 0 };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (!until()) {
        const t = performance.now();
        let status = 0;
        try {
          status = await request(port, method, path, body);
        } catch {
          status = 0;
        }
        const ms = performance.now() - t;
        stats.latencies.push(ms);
        stats.longestMs = Math.max(stats.longestMs, ms);
        if (status === okStatus) stats.ok++;
        else stats.errors++;
      }
    }),
  );
  stats.seconds = (performance.now() - started) / 1000;
  return stats;
}

/**
 * A steady-state row: 1 s of unrecorded load on the same route first, so that no row pays for the
 * JIT's warm-up of a path (the first row of a process would), then `SECONDS` measured.
 */
async function steadyLoad(
  port: number,
  method: string,
  path: string,
  body: string | undefined,
  okStatus: number,
): Promise<Stats> {
  const warm = Date.now() + 1000;
  await load(port, method, path, body, okStatus, () => Date.now() >= warm);
  const end = Date.now() + SECONDS * 1000;
  return load(port, method, path, body, okStatus, () => Date.now() >= end);
}

const pct = (xs: number[], p: number) => {
  const s = xs.toSorted((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const row = (name: string, s: Stats) =>
  [
    name.padEnd(40),
    ((s.ok + s.errors) / s.seconds).toFixed(0).padStart(8),
    pct(s.latencies, 50).toFixed(2).padStart(9),
    pct(s.latencies, 99).toFixed(2).padStart(9),
    s.longestMs.toFixed(0).padStart(9),
    String(s.errors).padStart(7),
  ].join(' ');

const baselineRef = values['baseline-ref'];
// Built before the topology starts: the build (about 15 s, once) must not run beside a row.
const baseline =
  baselineRef === 'none' ? { skipped: 'skipped (--baseline-ref none)' } : redisSentinelAt(baselineRef);

const PASSWORD = 'bench-app-redis-pw';
const topo = await RedisTopology.start({ password: PASSWORD, downAfterMs: 1000 });
const secrets = secretsDir({ redis_password: PASSWORD });
const env = {
  REDIS_SENTINELS: topo.sentinelList,
  SECRETS_DIR: secrets.dir,
  LOG_LEVEL: 'warn',
};
let app: AppProcess | undefined;
try {
  const header = [
    'endpoint'.padEnd(40),
    'req/s'.padStart(8),
    'p50 ms'.padStart(9),
    'p99 ms'.padStart(9),
    'max ms'.padStart(9),
    'errors'.padStart(7),
  ].join(' ');
  console.log(`sample app on loopback, concurrency ${CONCURRENCY}, ${SECONDS} s per steady-state run`);
  console.log(header);
  if ('nodeArgs' in baseline) {
    // Alone: the app under test is not started yet.
    // As the app was then: every probe ran the whole check.
    const old = await AppProcess.spawn(
      { ...env, HEALTH_READY_SHARE_MS: '0' },
      { nodeArgs: baseline.nodeArgs },
    );
    try {
      await old.ready();
      const stats = await steadyLoad(old.port, 'GET', '/health/ready', undefined, 200);
      console.log(row(`GET /health/ready  steady, ${baseline.commit.slice(0, 7)}`, stats));
    } finally {
      await old.stop();
    }
  } else {
    console.log(`GET /health/ready baseline: ${baseline.skipped}`);
  }
  {
    // The indicators' own single flight and reuse only: each probe runs Terminus and both indicators.
    const unshared = await AppProcess.spawn({ ...env, HEALTH_READY_SHARE_MS: '0' });
    try {
      await unshared.ready();
      const stats = await steadyLoad(unshared.port, 'GET', '/health/ready', undefined, 200);
      console.log(row('GET /health/ready  steady, unshared', stats));
    } finally {
      await unshared.stop();
    }
  }
  const current = await AppProcess.spawn(env);
  app = current;
  await current.ready();
  await request(current.port, 'PUT', '/cache/bench', JSON.stringify({ value: 'x'.repeat(100) }));
  const endpoints: Array<[string, string, string, string | undefined, number]> = [
    ['GET /health/ready', 'GET', '/health/ready', undefined, 200],
    ['GET /cache/:key', 'GET', '/cache/bench', undefined, 200],
    ['POST /jobs (durable, WAIT 1)', 'POST', '/jobs', JSON.stringify({ payload: { n: 1 } }), 202],
  ];
  // The floor of any route here (HTTP, Express, Nest, the request-context middleware): a readiness
  // probe cannot be cheaper than the liveness probe, which checks nothing.
  const floor: (typeof endpoints)[number] = [
    'GET /health/live (no checks)',
    'GET',
    '/health/live',
    undefined,
    200,
  ];
  const steady: Record<string, Stats> = {};
  for (const [name, method, path, body, ok] of [endpoints[0]!, floor, ...endpoints.slice(1)]) {
    steady[name] = await steadyLoad(current.port, method, path, body, ok);
    console.log(row(`${name}  steady`, steady[name]));
  }
  // Through a failover: the same three endpoints at once while the master is SIGKILLed.
  let stopAt = Number.POSITIVE_INFINITY;
  const done = () => Date.now() >= stopAt;
  const runs = endpoints.map(([, method, path, body, ok]) =>
    load(current.port, method, path, body, ok, done),
  );
  await new Promise((r) => setTimeout(r, 1000));
  const oldPort = topo.master.port;
  const killedAt = Date.now();
  await topo.kill(topo.master);
  await topo.waitForNewMaster(oldPort);
  const promotedMs = Date.now() - killedAt;
  stopAt = Date.now() + 3000;
  const through = await Promise.all(runs);
  endpoints.forEach(([name], i) => console.log(row(`${name}  SIGKILL`, through[i]!)));
  console.log(
    `\nmaster SIGKILLed: Sentinels agreed on the new master after ${promotedMs} ms (down-after-milliseconds 1000);` +
      ' "errors" in the SIGKILL rows are non-2xx answers (503 while no master) and failed requests; "max ms" is the longest stall.',
  );
} finally {
  await app?.stop();
  await topo.teardown();
  secrets.remove();
  agent.destroy();
}
