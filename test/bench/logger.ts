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
 * 200000), `--only stdout|burst|outage`.
 */
import { fork } from 'node:child_process';
import { openSync } from 'node:fs';
import { FakeLoki } from '../fake-loki/fake-loki.js';

type Case =
  | { kind: 'stdout'; logger: 'bastion' | 'winston' | 'pino'; lines: number }
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
    const logger = pino();
    return {
      log: (i) => logger.info({ orderId: i, user, context: 'Orders' }, 'order created'),
      flush: async () => logger.flush(),
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
  const { LokiLogger, runWithLogContext } = await import('@bastion/loki-logger');
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
    stats: () => logger.stats(),
  };
}

async function child(c: Case): Promise<unknown> {
  const l = await makeLogger(c);
  if (c.kind === 'stdout') {
    for (let i = 0; i < 20_000; i++) l.log(i); // warm-up
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < c.lines; i++) l.log(i);
    await l.flush();
    const ns = Number(process.hrtime.bigint() - t0);
    return { nsPerLine: ns / c.lines, linesPerSec: (c.lines / ns) * 1e9 };
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

// ------------------------------------------------------------------------------------ parent side

function run(c: Case): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const devnull = openSync('/dev/null', 'w');
    const p = fork(import.meta.filename, ['--child', JSON.stringify(c)], {
      stdio: ['ignore', devnull, 'pipe', 'ipc'],
      execArgv: ['--import', 'tsx', '--expose-gc'],
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

async function benchStdout(lines: number): Promise<void> {
  console.log(`\n## 1. stdout throughput (${fmt(lines)} lines after 20 000 warm-up, stdout → /dev/null)\n`);
  console.log('| logger | lines/s | ns/line |\n|---|---:|---:|');
  const rows: Array<[string, number, number]> = [];
  for (const logger of ['winston', 'bastion', 'pino'] as const) {
    const best = { nsPerLine: Infinity, linesPerSec: 0 };
    for (let round = 0; round < 3; round++) {
      const r = (await run({ kind: 'stdout', logger, lines })) as unknown as typeof best;
      if (r.nsPerLine < best.nsPerLine) Object.assign(best, r);
    }
    rows.push([logger, best.linesPerSec, best.nsPerLine]);
  }
  const names = {
    winston: 'winston 3 `format.json()` (Stream transport)',
    bastion: '@bastion/loki-logger (context + redaction, 3 secrets)',
    pino: 'pino 10 (default destination)',
  };
  for (const [name, lps, ns] of rows)
    console.log(`| ${names[name as keyof typeof names]} | ${fmt(lps)} | ${fmt(ns)} |`);
  console.log('\n(best of 3 runs each)');
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
  if (only === 'all' || only === 'stdout') await benchStdout(Number(flag('lines', '200000')));
  if (only === 'all' || only === 'burst') await benchBurst();
  if (only === 'all' || only === 'outage') await benchOutage(Number(flag('outage-seconds', '60')));
}

await main();
