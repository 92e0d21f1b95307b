/**
 * `npm run bench:logger` — @bastion/loki-logger side by side with plain winston, pino and winston-loki 6.
 *
 *   1. stdout throughput (stdout → /dev/null): lines/s and ns/line, this logger with request
 *      context and redaction on vs winston `format.json()` vs pino;
 *   2. a 100 000-line burst into the fake Loki with Loki's default limits (4 MiB/s, 6 MiB burst):
 *      lines delivered and time, this shipper (default buffer, and a buffer sized for the burst)
 *      vs winston-loki 6;
 *   3. resident memory through a Loki outage (connections refused) at 10 000 lines/s.
 *
 * Each case runs in its own child process (clean heap, stdout on /dev/null); the fake Loki runs
 * in this process. Flags: `--outage-seconds N` (default 60), `--lines N` (stdout case, default
 * 200000), `--only stdout|burst|outage`, `--baseline <git ref>` (the "before" row of case 1).
 */
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FakeLoki } from '../fake-loki/fake-loki.js';

type Case =
  | {
      kind: 'stdout';
      logger: 'bastion' | 'bastion-baseline' | 'winston' | 'pino';
      lines: number;
      alloc?: boolean;
      baselineDir?: string;
    }
  | {
      kind: 'burst';
      logger: 'bastion' | 'bastion-sized' | 'winston-loki';
      lines: number;
      url: string;
      waitMs: number;
    }
  | { kind: 'outage'; logger: 'bastion' | 'winston-loki'; seconds: number; rate: number; url: string };

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};

/** The last commit before issue 14's fast path: the "before" row. */
const BASELINE_REF = 'c289d37';

const SECRET_VALUES = ['s3cr3t-db-password', 'tok_live_1234567890abcdef', 'redis-sentinel-pass'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------- child side

interface BenchLogger {
  log: (i: number) => void;
  flush: () => Promise<unknown>;
  close: () => Promise<unknown>;
  stats?: () => unknown;
}

async function makeLogger(c: Case): Promise<BenchLogger> {
  const user = { id: 'u-123', plan: 'pro' };
  if (c.logger === 'pino') {
    const { pino } = await import('pino');
    // pino's default destination, made explicit to drain it at the end as the others are drained.
    const dest = pino.destination({ fd: 1, sync: false });
    const logger = pino(dest);
    return {
      log: (i) => logger.info({ orderId: i, user, context: 'Orders' }, 'order created'),
      flush: async () => dest.flushSync(),
      close: async () => {},
    };
  }
  if (c.logger === 'winston' || c.logger === 'winston-loki') {
    const winston = await import('winston');
    const transports: import('winston-transport')[] = [
      new winston.transports.Stream({ stream: process.stdout }),
    ];
    let loki: { flush(): Promise<unknown>; close?(): unknown } | undefined;
    if (c.logger === 'winston-loki') {
      const { default: LokiTransport } = await import('winston-loki');
      const t = new LokiTransport({
        host: (c as { url: string }).url,
        json: true,
        labels: { service_name: 'bench' },
        gracefulShutdown: false,
      });
      loki = t;
      transports.push(t);
    }
    const logger = winston.createLogger({ format: winston.format.json(), transports });
    return {
      log: (i) => logger.info('order created', { orderId: i, user, context: 'Orders' }),
      flush: async () => loki?.flush(),
      close: async () => loki?.close?.(),
    };
  }
  const { LokiLogger, runWithLogContext } = (await import(
    c.logger === 'bastion-baseline'
      ? `${(c as { baselineDir: string }).baselineDir}/index.ts`
      : '@bastion/loki-logger'
  )) as typeof import('@bastion/loki-logger');
  const url = 'url' in c ? c.url : undefined;
  const sized = c.logger === 'bastion-sized';
  const logger = new LokiLogger({
    service: 'bench',
    env: 'bench',
    redactValues: SECRET_VALUES,
    loki: url
      ? {
          url,
          ...(sized ? { maxBufferEntries: 200_000, maxBufferBytes: 64 * 1024 * 1024 } : {}),
          diagnostics: process.stderr,
        }
      : undefined,
  });
  let ctx = 0;
  let batch: number[] = [];
  return {
    // Every line inside a request context (request id + user id; a new context every 20 lines,
    // as a request writing 20 lines) and through redaction.
    log: (i) => {
      batch.push(i);
      if (batch.length < 20) return;
      const lines = batch;
      batch = [];
      runWithLogContext({ requestId: `req-${ctx++}`, userId: 'u-123' }, () => {
        for (const n of lines) logger.log('order created', { orderId: n, user }, 'Orders');
      });
    },
    flush: () => logger.flush(60_000),
    close: () => logger.onApplicationShutdown(),
    stats: () => ({ ...logger.stats(), stdout: logger.stdoutStats?.() }),
  };
}

/** Lines in a row before yielding to the event loop: a request's worth, as a server writes them. */
const LINES_PER_TICK = 20;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function child(c: Case): Promise<unknown> {
  const l = await makeLogger(c);
  if (c.kind === 'stdout') {
    for (let i = 0; i < 20_000; i++) {
      l.log(i); // warm-up
      if (i % LINES_PER_TICK === LINES_PER_TICK - 1) await tick();
    }
    await l.flush();
    if (c.alloc) return { bytesPerLine: await allocatedPerLine(l, c.lines) };
    global.gc?.();
    const heapBeforeMiB = process.memoryUsage().heapUsed / 1024 / 1024;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < c.lines; i++) {
      l.log(i);
      if (i % LINES_PER_TICK === LINES_PER_TICK - 1) await tick();
    }
    await l.flush();
    const ns = Number(process.hrtime.bigint() - t0);
    global.gc?.();
    const stdout = (l.stats?.() as { stdout?: { dropped: number } } | undefined)?.stdout;
    return {
      nsPerLine: ns / c.lines,
      linesPerSec: (c.lines / ns) * 1e9,
      heapAfterGcMiB: process.memoryUsage().heapUsed / 1024 / 1024,
      heapBeforeMiB,
      dropped: stdout?.dropped ?? 0,
    };
  }
  if (c.kind === 'burst') {
    const t0 = Date.now();
    for (let i = 0; i < c.lines; i++) l.log(i);
    const logged = Date.now() - t0;
    const flushResult = await Promise.race([
      l.flush().then(() => 'resolved'),
      sleep(c.waitMs).then(() => 'timeout'),
    ]);
    await sleep(500);
    await Promise.race([l.close(), sleep(2000)]);
    return { loggedInMs: logged, flush: flushResult, stats: l.stats?.() };
  }
  // outage: `rate` lines/s in 10 ms ticks, RSS sampled every second
  const samples: number[] = [];
  let i = 0;
  const started = Date.now();
  let nextSample = started + 1000;
  global.gc?.();
  samples.push(process.memoryUsage().rss);
  while (Date.now() - started < c.seconds * 1000) {
    // Paced on the clock (timers overshoot): exactly `rate` lines per second on average.
    const due = Math.floor(((Date.now() - started) * c.rate) / 1000 / 20) * 20;
    while (i < due) l.log(i++);
    await sleep(5);
    if (Date.now() >= nextSample) {
      samples.push(process.memoryUsage().rss);
      nextSample += 1000;
    }
  }
  global.gc?.();
  return { samples, lines: i, heapAfterGcMiB: process.memoryUsage().heapUsed / 1024 / 1024 };
}

/**
 * Bytes allocated per line (freed or not), from V8's sampling heap profiler with the objects that
 * young and old GCs collected included: a sample every 512 bytes allocated.
 */
async function allocatedPerLine(l: BenchLogger, lines: number): Promise<number> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (let i = 0; i < lines; i++) {
    l.log(i);
    if (i % LINES_PER_TICK === LINES_PER_TICK - 1) await tick();
  }
  await l.flush();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  type Node = { selfSize: number; children: Node[] };
  const sum = (n: Node): number => n.children.reduce((a, c) => a + sum(c), n.selfSize);
  return sum(profile.head as Node) / lines;
}

// ------------------------------------------------------------------------------------ parent side

function run(c: Case): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const devnull = openSync('/dev/null', 'w');
    const p = fork(import.meta.filename, ['--child', JSON.stringify(c)], {
      stdio: ['ignore', devnull, 'pipe', 'ipc'],
      execArgv: ['--import', 'tsx', '--expose-gc'],
      // tsx compiles only what a tsconfig includes with its options (decorators): the baseline's own.
      env:
        'baselineDir' in c && c.baselineDir
          ? { ...process.env, TSX_TSCONFIG_PATH: `${c.baselineDir}/../../../tsconfig.json` }
          : process.env,
    });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += String(d);
    });
    p.on('message', (m) =>
      resolve({ ...(m as Record<string, unknown>), stderr: stderr.trim().split('\n')[0] ?? '' }),
    );
    p.on('exit', (code) =>
      code === 0 ? undefined : reject(new Error(`child ${JSON.stringify(c)} exited ${code}: ${stderr}`)),
    );
  });
}

const MiB = 1024 * 1024;
const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/**
 * The lib's source at `ref` (the code before issue 14's fast path by default), extracted under
 * .bench-baseline/ (ignored by git) so that its imports resolve to this checkout's packages.
 */
function baselineSource(ref: string): string | { error: string } {
  const dir = fileURLToPath(new URL(`../../.bench-baseline/${ref}`, import.meta.url));
  const src = `${dir}/libs/loki-logger/src`;
  if (existsSync(`${src}/index.ts`)) return src;
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${ref} libs/loki-logger/src | tar -x -C ${dir}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    writeFileSync(
      `${dir}/tsconfig.json`,
      JSON.stringify({
        extends: '../../tsconfig.json',
        include: ['libs/*/src/**/*.ts', '../../test/**/*.ts'],
      }),
    );
    return src;
  } catch (err) {
    return { error: String((err as { stderr?: Buffer }).stderr ?? err).trim() };
  }
}

async function benchStdout(lines: number, baselineRef: string): Promise<void> {
  console.log(
    `\n## 1. stdout throughput (${fmt(lines)} lines after 20 000 warm-up, ${fmt(LINES_PER_TICK)} lines per event-loop turn, stdout → /dev/null, drained at the end)\n`,
  );
  console.log(
    '| logger | lines/s | ns/line | vs pino | allocated per line | heap after the run, after GC (before it) |\n|---|---:|---:|---:|---:|---:|',
  );
  const baseline = baselineSource(baselineRef);
  const loggers = ['winston', 'bastion-baseline', 'bastion', 'pino'] as const;
  const rows: Array<{
    logger: string;
    linesPerSec: number;
    nsPerLine: number;
    heap: number;
    heapBefore: number;
    alloc: number;
    dropped: number;
  }> = [];
  for (const logger of loggers) {
    if (logger === 'bastion-baseline' && typeof baseline !== 'string') continue;
    const baselineDir = logger === 'bastion-baseline' && typeof baseline === 'string' ? baseline : undefined;
    const best = { nsPerLine: Infinity, linesPerSec: 0, heapAfterGcMiB: 0, heapBeforeMiB: 0, dropped: 0 };
    for (let round = 0; round < 3; round++) {
      const r = (await run({ kind: 'stdout', logger, lines, baselineDir })) as unknown as typeof best;
      if (r.nsPerLine < best.nsPerLine) Object.assign(best, r);
    }
    const { bytesPerLine } = (await run({
      kind: 'stdout',
      logger,
      lines: 50_000,
      alloc: true,
      baselineDir,
    })) as {
      bytesPerLine: number;
    };
    rows.push({
      logger,
      linesPerSec: best.linesPerSec,
      nsPerLine: best.nsPerLine,
      heap: best.heapAfterGcMiB,
      heapBefore: best.heapBeforeMiB,
      alloc: bytesPerLine,
      dropped: best.dropped,
    });
  }
  const names: Record<(typeof loggers)[number], string> = {
    winston: 'winston 3 `format.json()` (Stream transport)',
    'bastion-baseline': `@bastion/loki-logger before the fast path (${baselineRef}), context + redaction`,
    bastion: '@bastion/loki-logger (context + redaction, 3 secrets)',
    pino: 'pino 10 (default destination)',
  };
  const pino = rows.find((r) => r.logger === 'pino')!.linesPerSec;
  for (const r of rows)
    console.log(
      `| ${names[r.logger as (typeof loggers)[number]]} | ${fmt(r.linesPerSec)} | ${fmt(r.nsPerLine)} | ${fmt(r.linesPerSec / pino, 2)}x | ${fmt(r.alloc)} B | ${fmt(r.heap, 1)} MiB (${fmt(r.heapBefore, 1)} MiB) |`,
    );
  const ours = rows.find((r) => r.logger === 'bastion')!;
  const winston = rows.find((r) => r.logger === 'winston')!.linesPerSec;
  console.log(
    `\n(best of 3 runs each; allocation from a separate 50 000-line run under V8's sampling heap profiler)\n@bastion/loki-logger: ${fmt(ours.linesPerSec / pino, 2)}x pino, ${fmt(ours.linesPerSec / winston, 2)}x winston; lines dropped by its stdout buffer: ${fmt(ours.dropped)}`,
  );
  if (typeof baseline !== 'string') console.log(`(baseline row skipped: ${baseline.error})`);
}

async function benchBurst(): Promise<void> {
  const lines = 100_000;
  console.log(`\n## 2. ${fmt(lines)}-line burst into the fake Loki (default limits: 4 MiB/s, 6 MiB burst)\n`);
  console.log(
    '| shipper | lines delivered | bytes delivered | pushes (2xx / 429 / other) | first→last accepted push | efficiency vs the rate limit |\n|---|---:|---:|---|---:|---:|',
  );
  for (const logger of ['bastion', 'bastion-sized', 'winston-loki'] as const) {
    const fake = await FakeLoki.start();
    const t0 = Date.now();
    const r = await run({ kind: 'burst', logger, lines, url: fake.url, waitMs: 30_000 });
    const ok = fake.pushes.filter((p) => p.status >= 200 && p.status < 300);
    const bytes = ok.reduce((a, p) => a + p.bytes, 0);
    const first = fake.pushes[0]?.at ?? t0;
    const last = ok.at(-1)?.at ?? first;
    const seconds = (last - first) / 1000;
    // Fastest possible: the 6 MiB burst at once, the rest at 4 MiB/s.
    const ideal = Math.max(0, bytes - 6 * MiB) / (4 * MiB);
    const efficiency = seconds > 0 ? ideal / seconds : 1;
    const n429 = fake.pushes.filter((p) => p.status === 429).length;
    const label = {
      bastion: '@bastion/loki-logger, default buffer (10 000 lines / 8 MiB)',
      'bastion-sized': '@bastion/loki-logger, buffer 200 000 lines / 64 MiB',
      'winston-loki': 'winston-loki 6.1.7 (json, batching, defaults)',
    }[logger];
    console.log(
      `| ${label} | ${fmt(fake.entries.length)} / ${fmt(lines)} | ${fmt(bytes / MiB, 1)} MiB | ${ok.length} / ${n429} / ${fake.pushes.length - ok.length - n429} | ${fmt(seconds, 2)} s | ${ok.length && bytes > 6 * MiB ? `${fmt(efficiency * 100)} %` : '— (under the burst)'} |`,
    );
    const stats = r.stats as { dropped: Record<string, number> } | undefined;
    if (stats) {
      const dropped = Object.entries(stats.dropped).filter(([, n]) => n > 0);
      console.log(
        `  ↳ dropped by the shipper (counted): ${dropped.length ? dropped.map(([k, n]) => `${k} ${fmt(n)}`).join(', ') : 'none'}`,
      );
    }
    if (logger === 'winston-loki')
      console.log(
        `\n  winston-loki flush(): ${String(r.flush)}; biggest push ${fmt(Math.max(0, ...fake.pushes.map((p) => p.entries)))} lines`,
      );
    if (r.stderr) console.log(`  (${label} stderr: ${String(r.stderr).slice(0, 160)})`);
    await fake.close();
  }
}

async function benchOutage(seconds: number): Promise<void> {
  const rate = 10_000;
  console.log(
    `\n## 3. resident memory through a ${seconds} s Loki outage (connections refused) at ${fmt(rate)} lines/s\n`,
  );
  const results: Record<string, number[]> = {};
  const extra: Record<string, string> = {};
  for (const logger of ['bastion', 'winston-loki'] as const) {
    const fake = await FakeLoki.start();
    const url = fake.url;
    await fake.refuse();
    const r = await run({ kind: 'outage', logger, seconds, rate, url });
    results[logger] = (r.samples as number[]).map((b) => b / MiB);
    extra[logger] =
      `${fmt(Number(r.lines) / seconds)} lines/s achieved; heap after GC at the end ${fmt(Number(r.heapAfterGcMiB))} MiB`;
    await fake.close();
  }
  const marks = [0, 5, 10, 20, 30, 45, 60, 90, 120].filter((s) => s <= seconds);
  if (!marks.includes(seconds)) marks.push(seconds);
  console.log(
    `| shipper | ${marks.map((s) => `RSS @${s}s`).join(' | ')} | growth after 10 s |\n|---|${marks.map(() => '---:').join('|')}|---:|`,
  );
  for (const [name, mib] of Object.entries(results)) {
    const at = (s: number): number => mib[Math.min(s, mib.length - 1)]!;
    const from = Math.min(10, Math.floor(seconds / 2));
    const growth = (at(seconds) - at(from)) / Math.max(1, seconds - from);
    const label = name === 'bastion' ? '@bastion/loki-logger (defaults)' : 'winston-loki 6.1.7';
    console.log(
      `| ${label} | ${marks.map((s) => `${fmt(at(s), 0)} MiB`).join(' | ')} | ${fmt(growth, 2)} MiB/s |`,
    );
  }
  console.log('');
  for (const [name, text] of Object.entries(extra)) console.log(`  ${name}: ${text}`);
}

async function main(): Promise<void> {
  if (args[0] === '--child') {
    const result = await child(JSON.parse(args[1]!) as Case);
    process.send!(result, undefined, {}, () => process.exit(0));
    return;
  }
  const only = flag('only', 'all');
  console.log(`# bench:logger — Node ${process.version}, ${new Date().toISOString()}`);
  if (only === 'all' || only === 'stdout')
    await benchStdout(Number(flag('lines', '200000')), flag('baseline', BASELINE_REF));
  if (only === 'all' || only === 'burst') await benchBurst();
  if (only === 'all' || only === 'outage') await benchOutage(Number(flag('outage-seconds', '60')));
}

await main();
