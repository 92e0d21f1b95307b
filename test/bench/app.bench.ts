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
 * The cost of collection: each steady row also runs on the same app with METRICS_ENABLED=false
 * (no metrics modules, no prom-client registry, no /metrics) beside the app under test (metrics
 * on), the two in turns, in slices of about a second; a table at the end puts them side by side.
 * `GET /metrics` itself is timed at the bench's concurrency and one scrape at a time (as
 * Prometheus scrapes), with the size of a scrape. The baseline and unshared rows run without
 * metrics (the baseline's lib has none).
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
  concurrency = CONCURRENCY,
): Promise<Stats> {
  const stats: Stats = { ok: 0, errors: 0, latencies: [], longestMs: 0, seconds: 0 };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
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
  concurrency = CONCURRENCY,
): Promise<Stats> {
  const warm = Date.now() + 1000;
  await load(port, method, path, body, okStatus, () => Date.now() >= warm, concurrency);
  const end = Date.now() + SECONDS * 1000;
  return load(port, method, path, body, okStatus, () => Date.now() >= end, concurrency);
}

/** Two runs of the same route as one. */
const merged = (a: Stats, b: Stats): Stats => ({
  ok: a.ok + b.ok,
  errors: a.errors + b.errors,
  latencies: [...a.latencies, ...b.latencies],
  longestMs: Math.max(a.longestMs, b.longestMs),
  seconds: a.seconds + b.seconds,
});

const rate = (x: Stats) => (x.ok + x.errors) / x.seconds;
/** Mean of relative changes ± twice its standard error, in percent. */
const change = (xs: number[]): string => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1);
  const se = Math.sqrt(variance / xs.length);
  return `${mean >= 0 ? '+' : ''}${(mean * 100).toFixed(1)}% ±${(2 * se * 100).toFixed(1)}`;
};

const pct = (xs: number[], p: number) => {
  const s = xs.toSorted((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const row = (name: string, s: Stats) =>
  [
    name.padEnd(50),
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

/** Waits until the jobs queue has nothing waiting or active (the apps' workers took everything). */
async function drainJobs(timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [waiting, active] = await Promise.all(
      ['bull:jobs:wait', 'bull:jobs:active'].map((key) => topo.command(topo.master, 'LLEN', key)),
    );
    if (Number(waiting) + Number(active) === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the jobs queue did not drain within ${timeoutMs} ms`);
}
const secrets = secretsDir({ redis_password: PASSWORD });
const env = {
  REDIS_SENTINELS: topo.sentinelList,
  SECRETS_DIR: secrets.dir,
  LOG_LEVEL: 'warn',
};
let app: AppProcess | undefined;
try {
  const header = [
    'endpoint'.padEnd(50),
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
    // As the app was then: every probe ran the whole check, and no metrics (that lib has no
    // /metrics entry).
    const old = await AppProcess.spawn(
      { ...env, HEALTH_READY_SHARE_MS: '0', METRICS_ENABLED: 'false' },
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
    // Without metrics, like the baseline: the two rows differ in the lib only.
    const unshared = await AppProcess.spawn({ ...env, HEALTH_READY_SHARE_MS: '0', METRICS_ENABLED: 'false' });
    try {
      await unshared.ready();
      const stats = await steadyLoad(unshared.port, 'GET', '/health/ready', undefined, 200);
      console.log(row('GET /health/ready  steady, unshared', stats));
    } finally {
      await unshared.stop();
    }
  }
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
  const steadyRows = [endpoints[0]!, floor, ...endpoints.slice(1)];
  const current = await AppProcess.spawn(env);
  app = current;
  // The same app without metrics (no metrics modules, no registry, no /metrics), beside it: each
  // steady row runs on both, in turns, so that both see the same machine.
  const bare = await AppProcess.spawn({ ...env, METRICS_ENABLED: 'false' });
  const metricsOff: Record<string, Stats> = {};
  /** Per route, on/off - 1 of each pair of adjacent slices: the spread says what the bench resolves. */
  const pairedChanges: Record<string, number[]> = {};
  const steady: Record<string, Stats> = {};
  let scrapeBytes = 0;
  let scrapes: Stats | undefined;
  let oneScrape: Stats | undefined;
  try {
    await Promise.all([current.ready(), bare.ready()]);
    if ((await request(bare.port, 'GET', '/metrics')) !== 404)
      throw new Error('METRICS_ENABLED=false serves /metrics');
    await request(current.port, 'PUT', '/cache/bench', JSON.stringify({ value: 'x'.repeat(100) }));
    // Both processes warmed alike (HTTP, Express, Nest) before any row: otherwise the one that
    // served more requests first would win the comparison.
    const warm = Date.now() + 3000;
    await Promise.all(
      [bare, current].map((a) =>
        load(a.port, 'GET', '/health/live', undefined, 200, () => Date.now() >= warm),
      ),
    );
    // In turns, in slices of about a second (off, on, on, off, off, on...), each process warmed
    // on the route first: a drift of the machine during a row (another process, the load
    // generator's heap) weighs on both sides alike.
    const slices = Math.max(2, Math.round(SECONDS));
    const pair = async ([name, method, path, body, ok]: (typeof steadyRows)[number]): Promise<void> => {
      // Both workers share the queue: the jobs a slice queued are worked off before the next one.
      const settle = () => (path === '/jobs' ? drainJobs() : Promise.resolve());
      const run = async (target: AppProcess, seconds: number): Promise<Stats> => {
        const end = Date.now() + seconds * 1000;
        const stats = await load(target.port, method, path, body, ok, () => Date.now() >= end);
        await settle();
        return stats;
      };
      await run(bare, 1);
      await run(current, 1);
      const off: Stats[] = [];
      const on: Stats[] = [];
      for (let i = 0; i < slices; i++) {
        const turns: Array<[AppProcess, Stats[]]> = [
          [bare, off],
          [current, on],
        ];
        if (i % 2 === 1) turns.reverse();
        for (const [target, into] of turns) into.push(await run(target, SECONDS / slices));
      }
      metricsOff[name] = off.reduce(merged);
      pairedChanges[name] = on.map((s, i) => rate(s) / rate(off[i]!) - 1);
      steady[name] = on.reduce(merged);
      console.log(row(`${name}  steady, metrics off`, metricsOff[name]));
      console.log(row(`${name}  steady`, steady[name]));
    };
    for (const entry of steadyRows) await pair(entry);
    // The scrape itself, as fast as the bench's clients can, then one at a time (Prometheus's way).
    scrapeBytes = Buffer.byteLength(await (await fetch(`http://127.0.0.1:${current.port}/metrics`)).text());
    scrapes = await steadyLoad(current.port, 'GET', '/metrics', undefined, 200);
    console.log(row('GET /metrics  steady', scrapes));
    oneScrape = await steadyLoad(current.port, 'GET', '/metrics', undefined, 200, 1);
    console.log(row('GET /metrics  steady, 1 at a time', oneScrape));
  } finally {
    // Before the SIGKILL run, which measures the app under test alone (on a drained queue).
    await bare.stop();
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
  // The cost of collection, side by side: what the metrics modules and the process metrics cost a
  // request between scrapes (nothing on the request path), and what one scrape costs. "change" is
  // the mean of the slices' on/off ratios with twice its standard error: a change within it is
  // not told apart from the machine's noise.
  console.log(`\ncost of collection (same routes, METRICS_ENABLED=false and the default, on, in turns)`);
  console.log(
    [
      'endpoint'.padEnd(30),
      'off req/s'.padStart(10),
      'on req/s'.padStart(10),
      'change ± 2 s.e.'.padStart(16),
      'off p50'.padStart(8),
      'on p50'.padStart(8),
      'off p99'.padStart(8),
      'on p99'.padStart(8),
    ].join(' '),
  );
  for (const [name] of steadyRows) {
    const off = metricsOff[name]!;
    const on = steady[name]!;
    console.log(
      [
        name.padEnd(30),
        rate(off).toFixed(0).padStart(10),
        rate(on).toFixed(0).padStart(10),
        change(pairedChanges[name]!).padStart(16),
        pct(off.latencies, 50).toFixed(2).padStart(8),
        pct(on.latencies, 50).toFixed(2).padStart(8),
        pct(off.latencies, 99).toFixed(2).padStart(8),
        pct(on.latencies, 99).toFixed(2).padStart(8),
      ].join(' '),
    );
  }
  console.log(
    `GET /metrics: ${scrapeBytes} bytes a scrape; one at a time p50 ${pct(oneScrape.latencies, 50).toFixed(2)} ms, ` +
      `p99 ${pct(oneScrape.latencies, 99).toFixed(2)} ms; at concurrency ${CONCURRENCY} ${rate(scrapes).toFixed(0)} scrapes/s ` +
      `(a Prometheus scraping every 15 s asks for one in 15 s).`,
  );
} finally {
  await app?.stop();
  await topo.teardown();
  secrets.remove();
  agent.destroy();
}
