/**
 * Integrations benchmark: BullMQ, cache-manager (Keyv), the Socket.IO Redis adapter and the
 * throttler storage, each on plain ioredis Sentinel options (as its docs configure it) beside the
 * same integration on a @bastion/redis-sentinel module client, all rows at the same time on ONE
 * real topology per scenario (1 master, 2 replicas, 3 Sentinels, down-after 1000 ms).
 *
 *   npm run bench:integrations -- [--only sigkill,sigstop,manual,sentinels-down] [--sentinels-down-ms 45000]
 *
 * Every row issues one operation every 20 ms without waiting for the previous one (a server
 * taking requests does not wait either): BullMQ enqueues a job (ours: `durableEnqueue`) and waits
 * for the worker to process it; the cache does `set` + `get`; server A broadcasts a sequence
 * number that a socket.io-client on server B must receive; the throttler counts a hit.
 *
 * Recovery = ms from `+switch-master` (an independent subscriber on every Sentinel) until the
 * first operation issued after the switch that succeeded ON THE NEW MASTER (its key is there)
 * and after which every later operation succeeded too ("back and stays back"). A row without
 * such a point within 30 s of the switch is "never (within 30 s)".
 *
 * Besides: acknowledged jobs lost (never processed and gone from the final master), broadcasts that
 * never arrived, unhandled rejections (counted per row, never a crash). A frozen master is thawed
 * once every row is back or 10 s after the switch. BENCH_DEBUG=1 prints each row's last failed
 * operations after the switch.
 *
 * Exits non-zero when a module row misses the target: back within 1000 ms of
 * `+switch-master`, zero acknowledged durable jobs lost.
 */
import 'reflect-metadata';
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { Redis, type RedisOptions } from 'ioredis';
import { Queue, Worker } from 'bullmq';
import { Keyv } from 'keyv';
import { createCache } from 'cache-manager';
import { Server as IoServer } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { createAdapter } from '@socket.io/redis-adapter';
import { RedisClientsService, RedisSentinelModule } from '@bastion/redis-sentinel';
import { durableEnqueue } from '@bastion/redis-sentinel/bullmq';
import { RedisKeyvStore } from '@bastion/redis-sentinel/keyv';
import { socketIoRedisClients } from '@bastion/redis-sentinel/socket.io';
import { RedisThrottlerStorage } from '@bastion/redis-sentinel/throttler';
import { RedisTopology } from '@bastion/redis-topology';
import { triggerFailoverWithRetry, watchSwitches } from '../support/sentinel-clock.js';
import {
  PASSWORD,
  PROTECTED_TOPOLOGY,
  SENTINEL_PASSWORD,
  sentinelOptions,
} from '../redis-sentinel/support.js';

const SCENARIOS = ['sigkill', 'sigstop', 'manual', 'sentinels-down'] as const;
type Scenario = (typeof SCENARIOS)[number];
const SCENARIO_TITLES: Record<Scenario, string> = {
  sigkill: 'SIGKILL master',
  sigstop: 'SIGSTOP master',
  manual: 'manual failover',
  'sentinels-down': '45 s no Sentinels',
};

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    'sentinels-down-ms': { type: 'string', default: '45000' },
  },
});
const scenarios = (args.only ? args.only.split(',') : [...SCENARIOS]) as Scenario[];
for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`);
const SENTINELS_DOWN_MS = Number(args['sentinels-down-ms']);
SCENARIO_TITLES['sentinels-down'] = `${Math.round(SENTINELS_DOWN_MS / 1000)} s no Sentinels`;

const TICK_MS = 20;
const MAX_IN_FLIGHT = 3000;
const DEADLINE_MS = 30_000;
/** Observe this long after the last row came back (so "stays back" has something to judge). */
const HOLD_AFTER_RECOVERY_MS = 4000;
/** Operations issued in the last part of the window are not judged (they may still be on their way). */
const UNJUDGED_TAIL_MS = 1500;
/** A frozen master is thawed once every row is back, or this long after the switch. */
const THAW_AFTER_SWITCH_MS = 10_000;
const TARGET_MS = 1000;

const INTEGRATIONS = ['BullMQ worker', 'cache-manager (Keyv)', 'Socket.IO broadcast', 'throttler'] as const;
type Integration = (typeof INTEGRATIONS)[number];
const VARIANTS = ['plain ioredis', 'module'] as const;
type Variant = (typeof VARIANTS)[number];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const noop = () => undefined;

// ---- attribution of unhandled rejections and of plain connections to the row that made them ----

const rowContext = new AsyncLocalStorage<string>();
const promiseRow = new WeakMap<object, string>();
createHook({
  init(_id, type, _trigger, resource) {
    if (type !== 'PROMISE') return;
    const label = rowContext.getStore();
    if (label !== undefined) promiseRow.set(resource as object, label);
  },
}).enable();
const unhandled = new Map<string, number>();
process.on('unhandledRejection', (_reason, promise) => {
  const label = promiseRow.get(promise) ?? 'unattributed';
  unhandled.set(label, (unhandled.get(label) ?? 0) + 1);
});

/** Plain ioredis connections (and their duplicates, e.g. BullMQ's blocking one), closed per scenario. */
const plainConnections = new Set<Redis>();
const duplicateOriginal = Redis.prototype.duplicate;
Redis.prototype.duplicate = function (this: Redis, ...rest: Parameters<Redis['duplicate']>): Redis {
  const copy = duplicateOriginal.apply(this, rest);
  if (plainConnections.has(this)) {
    plainConnections.add(copy);
    copy.on('error', noop);
  }
  return copy;
};

// ---- rows ----

interface Op {
  startedAt: number;
  okAt?: number;
  failed?: boolean;
  /** A key the operation wrote: it must exist on the new master for the operation to count. */
  key?: string;
  /** Whether `key` was found on the new master (checked once). */
  onMaster?: boolean;
  error?: string;
}

interface Probe {
  /** Starts one operation; resolves when it succeeded (optionally with its key and success time). */
  fire(): Promise<{ key?: string; at?: number }>;
  /** After the window: losses, counters. */
  report(master: Redis): Promise<string[]>;
  close(): Promise<void>;
  lostDurable?: number;
  lostMessages?: number;
}

class Row {
  readonly ops: Op[] = [];
  inFlight = 0;
  probe!: Probe;
  recoveryMs: number | undefined;
  unhandled = 0;
  judged = { ok: 0, notOnMaster: 0, failed: 0, pending: 0 };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly integration: Integration,
    readonly variant: Variant,
  ) {}

  get label(): string {
    return `${this.integration} / ${this.variant}`;
  }

  start(): void {
    rowContext.run(this.label, () => {
      this.timer = setInterval(() => this.fire(), TICK_MS);
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private fire(): void {
    if (this.inFlight >= MAX_IN_FLIGHT) return;
    const op: Op = { startedAt: Date.now() };
    this.ops.push(op);
    this.inFlight++;
    this.probe.fire().then(
      ({ key, at }) => {
        op.okAt = at ?? Date.now();
        op.key = key;
        this.inFlight--;
      },
      (err: unknown) => {
        op.failed = true;
        op.error = err instanceof Error ? err.message : String(err);
        this.inFlight--;
      },
    );
  }

  /** Succeeded (not yet checked against the new master) after `since`. */
  okSince(since: number): boolean {
    return this.ops.some((o) => o.startedAt >= since && o.okAt !== undefined);
  }

  okBetween(from: number, to: number): { ok: number; failed: number } {
    const ops = this.ops.filter((o) => o.startedAt >= from && o.startedAt < to);
    const ok = ops.filter((o) => o.okAt !== undefined).length;
    return { ok, failed: ops.length - ok };
  }
}

type Connect = () => Promise<Probe>;

/** BullMQ: Queue + Worker sharing one connection, as BullMQ's docs show. */
function bullmq(connection: () => Redis, durable: boolean): Connect {
  return async () => {
    const redis = connection();
    const name = `bench-${durable ? 'module' : 'plain'}`;
    const queue = new Queue(name, { connection: redis });
    queue.on('error', noop);
    const processedAt = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    const worker = new Worker(
      name,
      async (job) => {
        processedAt.set(job.id!, Date.now());
        waiters.get(job.id!)?.();
      },
      { connection: redis },
    );
    let workerErrors = 0;
    worker.on('error', () => workerErrors++);
    await worker.waitUntilReady();
    const acked: string[] = [];
    let refused = 0;
    let seq = 0;
    const probe: Probe = {
      async fire() {
        let id: string;
        try {
          // Our own ids: after a failover Redis may hand out an id again that the old master had given.
          const opts = { jobId: `job-${++seq}` };
          const job = durable
            ? await durableEnqueue(queue, 'job', {}, opts)
            : await queue.add('job', {}, opts);
          id = job.id!;
        } catch (err) {
          refused++;
          throw err;
        }
        acked.push(id);
        const key = `bull:${name}:${id}`;
        if (!processedAt.has(id)) await new Promise<void>((resolve) => waiters.set(id, resolve));
        waiters.delete(id);
        return { key, at: processedAt.get(id) };
      },
      async report(master) {
        const unprocessed = acked.filter((id) => !processedAt.has(id));
        const exists = await existsAll(
          master,
          unprocessed.map((id) => `bull:${name}:${id}`),
        );
        const lost = unprocessed.filter((_, i) => !exists[i]).length;
        probe.lostDurable = lost;
        return [
          `${acked.length} jobs acknowledged, ${lost} lost (never processed, gone from the master), ` +
            `${unprocessed.length - lost} still waiting, ${refused} enqueues refused/failed, ${workerErrors} worker errors, ` +
            `worker.isRunning() ${worker.isRunning()}`,
        ];
      },
      async close() {
        await bounded(worker.close(true));
        await bounded(queue.close());
      },
    };
    return probe;
  };
}

/** cache-manager 7 on Keyv on RedisKeyvStore (what @nestjs/cache-manager builds). */
function cache(client: () => Redis): Connect {
  return async () => {
    const keyv = new Keyv({ store: new RedisKeyvStore(client()), namespace: 'bench' });
    let lastError = '';
    keyv.on('error', (err: Error) => (lastError = err.message));
    const store = createCache({ stores: [keyv] });
    let n = 0;
    return {
      async fire() {
        const key = `c${++n}`;
        const value = n;
        await store.set(key, value, 120_000);
        const got = await store.get(key);
        if (got !== value)
          throw new Error(`cache miss: got ${JSON.stringify(got)}; last Keyv error: ${lastError}`);
        return { key: `bench:${key}` };
      },
      async report() {
        return [];
      },
      async close() {},
    };
  };
}

/** Two socket.io servers with the Redis adapter; a client on B receives what A broadcasts. */
function socketIo(clients: () => { pubClient: Redis; subClient: Redis; stats?: () => object }): Connect {
  return async () => {
    const servers: Array<{ http: HttpServer; io: IoServer; stats?: () => object }> = [];
    for (let i = 0; i < 2; i++) {
      const { pubClient, subClient, stats } = clients();
      const http = createServer();
      const io = new IoServer(http, { adapter: createAdapter(pubClient, subClient) });
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      servers.push({ http, io, stats });
    }
    const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]];
    const socket = ioClient(`http://127.0.0.1:${(b.http.address() as AddressInfo).port}`, {
      transports: ['websocket'],
    });
    const waiters = new Map<number, () => void>();
    socket.on('seq', (n: number) => {
      waiters.get(n)?.();
      waiters.delete(n);
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let seq = 0;
    const probe: Probe = {
      fire() {
        const n = ++seq;
        const received = new Promise<{ key?: string }>((resolve) => waiters.set(n, () => resolve({})));
        a.io.emit('seq', n);
        return received;
      },
      async report() {
        probe.lostMessages = waiters.size;
        return [
          `${seq} broadcasts, ${waiters.size} never arrived` +
            (a.stats ? `; server A publish stats ${JSON.stringify(a.stats())}` : ''),
        ];
      },
      async close() {
        socket.disconnect();
        for (const s of servers) {
          await bounded(new Promise<void>((resolve) => s.io.close(() => resolve())));
        }
      },
    };
    return probe;
  };
}

/** RedisThrottlerStorage.increment: a count Redis answered (not the fail-open fallback). */
function throttler(client: () => Redis): Connect {
  return async () => {
    const storage = new RedisThrottlerStorage(client());
    let n = 0;
    return {
      async fire() {
        const key = `t${++n}`;
        const counted = storage.stats().counted;
        const record = await storage.increment(key, 120_000, 1_000_000, 1000, 'bench');
        if (record.totalHits < 1 || storage.stats().counted <= counted) throw new Error('failed open');
        return { key: `throttler:{bench:${key}}:hits` };
      },
      async report() {
        return [`storage stats ${JSON.stringify(storage.stats())}`];
      },
      async close() {},
    };
  };
}

// ---- one scenario ----

async function runScenario(kind: Scenario): Promise<Row[]> {
  unhandled.clear();
  const topo = await RedisTopology.start(PROTECTED_TOPOLOGY);
  const observer = await watchSwitches(topo, SENTINEL_PASSWORD);
  const app = await NestFactory.createApplicationContext(RedisSentinelModule.forRoot(sentinelOptions(topo)), {
    logger: false,
  });
  const ours = app.get(RedisClientsService).get();
  const plainOptions: RedisOptions = {
    sentinels: topo.sentinelAddresses,
    name: topo.masterName,
    password: PASSWORD,
    sentinelPassword: SENTINEL_PASSWORD,
  };
  const plain = (extra: RedisOptions = {}): Redis => {
    const redis = new Redis({ ...plainOptions, ...extra });
    redis.on('error', noop);
    plainConnections.add(redis);
    return redis;
  };
  const connects: Record<Integration, Record<Variant, Connect>> = {
    'BullMQ worker': {
      'plain ioredis': bullmq(() => plain({ maxRetriesPerRequest: null }), false),
      module: bullmq(() => ours, true),
    },
    'cache-manager (Keyv)': { 'plain ioredis': cache(() => plain()), module: cache(() => ours) },
    'Socket.IO broadcast': {
      'plain ioredis': socketIo(() => {
        const pubClient = plain();
        return { pubClient, subClient: pubClient.duplicate() };
      }),
      module: socketIo(() => socketIoRedisClients(ours)),
    },
    throttler: { 'plain ioredis': throttler(() => plain()), module: throttler(() => ours) },
  };
  const rows: Row[] = [];
  for (const integration of INTEGRATIONS) {
    for (const variant of VARIANTS) {
      const row = new Row(integration, variant);
      row.probe = await rowContext.run(row.label, () => connects[integration][variant]());
      rows.push(row);
    }
  }
  const t0 = Date.now();
  rows.forEach((r) => r.start());
  await waitUntil(() => rows.every((r) => r.okSince(t0)), 15_000, 'every row works before the fault');

  try {
    const oldPort = (await topo.currentMasterPort())!;
    const oldNode = topo.nodeByPort(oldPort);
    let phase = '';
    if (kind === 'sentinels-down') {
      const downAt = Date.now();
      await Promise.all(topo.sentinels.map((s) => topo.kill(s)));
      await sleep(SENTINELS_DOWN_MS);
      const during = rows.map((r) => {
        const { ok, failed } = r.okBetween(downAt, Date.now());
        return `${r.label}: ${failed} of ${ok + failed} failed`;
      });
      for (const s of topo.sentinels) await topo.restart(s);
      await topo.waitSettled(oldPort, 30_000);
      await waitUntil(observer.ready, 10_000, 'the observer is subscribed to every Sentinel again');
      await sleep(1000);
      phase = `  Sentinels down ${SENTINELS_DOWN_MS} ms, then restarted and settled; operations while down: ${during.join('; ')}\n`;
    }
    const switchesBefore = observer.switches.length;
    const faultAt = Date.now();
    if (kind === 'sigkill' || kind === 'sentinels-down') await topo.kill(oldNode);
    else if (kind === 'sigstop') topo.freeze(oldNode);
    else await triggerFailoverWithRetry(topo);
    await waitUntil(() => observer.switches.length > switchesBefore, 30_000, '+switch-master');
    const switchAt = observer.switches[switchesBefore]!.at;
    const newPort = observer.switches[switchesBefore]!.to;

    // Observe until every row has been back for a while, or the deadline; thaw a frozen master on the way.
    const master = new Redis({ ...topo.connectionOptions(topo.nodeByPort(newPort)), lazyConnect: true });
    master.on('error', noop);
    await master.connect();
    let thawAt: number | undefined;
    let windowEnd = switchAt + DEADLINE_MS;
    for (;;) {
      await sleep(500);
      const now = Date.now();
      if (now >= windowEnd) break;
      const back = await Promise.all(rows.map((r) => recovery(r, master, switchAt, now)));
      const allBack = back.every((b) => b !== undefined);
      if (kind === 'sigstop' && thawAt === undefined && (allBack || now >= switchAt + THAW_AFTER_SWITCH_MS)) {
        topo.thaw(oldNode);
        thawAt = now;
        continue;
      }
      const heldSince = Math.max(...back.map((b) => switchAt + (b ?? Infinity)), (thawAt ?? 0) + 1000);
      if (allBack && now - heldSince >= HOLD_AFTER_RECOVERY_MS) windowEnd = now;
    }
    if (oldNode.stopped) {
      topo.thaw(oldNode);
      thawAt ??= Date.now();
    }
    rows.forEach((r) => r.stop());
    await sleep(3000); // operations in flight settle
    if (kind === 'sigstop') {
      await topo
        .waitUntil(async () => (await topo.role(oldNode)) === 'slave', 'the thawed master is demoted', 20_000)
        .catch(noop);
    }

    console.log(
      `\n== ${SCENARIO_TITLES[kind]}: +switch-master ${switchAt - faultAt} ms after the fault` +
        (thawAt ? `, old master thawed ${thawAt - switchAt} ms after the switch` : '') +
        `, window ${windowEnd - switchAt} ms after the switch`,
    );
    if (phase) process.stdout.write(phase);
    for (const row of rows) {
      row.recoveryMs = await recovery(row, master, switchAt, windowEnd, true);
      const details = await row.probe.report(master);
      const unh = unhandled.get(row.label) ?? 0;
      console.log(
        `  ${row.label.padEnd(38)} ${fmt(row.recoveryMs).padEnd(20)} after the switch ${row.judged.ok} ok, ${row.judged.notOnMaster} on the old master, ${row.judged.failed} failed, ${row.judged.pending} unanswered; unhandled rejections ${unh}; ${details.join('; ')}`,
      );
    }
    master.disconnect();
    if (unhandled.get('unattributed'))
      console.log(`  unattributed unhandled rejections: ${unhandled.get('unattributed')}`);
  } finally {
    rows.forEach((r) => r.stop());
    await Promise.all(rows.map((r) => bounded(r.probe.close())));
    await bounded(app.close());
    for (const c of plainConnections) c.disconnect();
    plainConnections.clear();
    observer.close();
    await topo.teardown();
    for (const r of rows) r.unhandled = unhandled.get(r.label) ?? 0;
  }
  return rows;
}

/**
 * ms after the switch of the first operation issued after the switch that succeeded on the new
 * master, with every later judged operation successful too; undefined when there is none.
 */
async function recovery(
  row: Row,
  master: Redis,
  switchAt: number,
  windowEnd: number,
  verbose = false,
): Promise<number | undefined> {
  const judged = row.ops.filter((o) => o.startedAt >= switchAt && o.startedAt < windowEnd - UNJUDGED_TAIL_MS);
  const unchecked = judged.filter(
    (o) => o.okAt !== undefined && o.key !== undefined && o.onMaster === undefined,
  );
  const exists = await existsAll(
    master,
    unchecked.map((o) => o.key!),
  );
  unchecked.forEach((o, i) => (o.onMaster = exists[i]));
  row.judged = {
    ok: judged.filter(ok).length,
    notOnMaster: judged.filter((o) => o.onMaster === false).length,
    failed: judged.filter((o) => o.failed).length,
    pending: judged.filter((o) => o.okAt === undefined && !o.failed).length,
  };
  let lastBad = -1;
  judged.forEach((o, i) => {
    if (!ok(o)) lastBad = i;
  });
  const after = judged.slice(lastBad + 1);
  if (verbose && process.env.BENCH_DEBUG && lastBad >= 0) {
    const bad = judged.filter((o) => !ok(o)).slice(-3);
    console.log(
      `  [debug] ${row.label}: last bad ops`,
      JSON.stringify(
        bad.map((o) => ({ ...o, startedAt: o.startedAt - switchAt, okAt: o.okAt && o.okAt - switchAt })),
      ),
    );
  }
  if (after.length === 0) return undefined;
  const back = Math.min(...after.map((o) => o.okAt!)) - switchAt;
  return back <= DEADLINE_MS ? Math.max(0, back) : undefined;
}

/** Succeeded, and (when it wrote a key) the key is on the new master. */
const ok = (o: Op): boolean => o.okAt !== undefined && o.onMaster !== false;

async function existsAll(master: Redis, keys: string[]): Promise<boolean[]> {
  const out: boolean[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const pipeline = master.pipeline();
    for (const k of keys.slice(i, i + 1000)) pipeline.exists(k);
    const replies = (await pipeline.exec()) ?? [];
    for (const [err, n] of replies) out.push(!err && Number(n) === 1);
  }
  return out;
}

// ---- helpers ----

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

/** Waits for a close at most 3 s (a stuck plain client must not hang the benchmark). */
async function bounded(p: Promise<unknown>): Promise<void> {
  await Promise.race([p.catch(noop), sleep(3000)]);
}

const fmt = (ms: number | undefined): string =>
  ms === undefined ? `never (within ${DEADLINE_MS / 1000} s)` : `${ms} ms`;

// ---- main ----

console.log(
  `Integrations benchmark: ${scenarios.map((s) => SCENARIO_TITLES[s]).join(', ')}; a fresh topology per scenario, all rows at once.\n` +
    'Plain ioredis rows, as each integration documents its Sentinel set-up: new Redis({ sentinels, name, password, sentinelPassword })\n' +
    '  BullMQ: that client with maxRetriesPerRequest: null as `connection` of Queue and Worker (BullMQ duplicates it for the blocking connection);\n' +
    '  cache: the documented Keyv store @keyv/redis speaks only node-redis (not installed), so the baseline is the same\n' +
    '    RedisKeyvStore on the plain client, under cache-manager 7 / Keyv 5 as @nestjs/cache-manager builds it;\n' +
    '  Socket.IO: pubClient = new Redis(...), subClient = pubClient.duplicate(), createAdapter(pubClient, subClient);\n' +
    '  throttler: RedisThrottlerStorage on the plain client.\n' +
    'Module rows: the default client of RedisSentinelModule; BullMQ enqueues with durableEnqueue (WAIT 1), Socket.IO uses socketIoRedisClients().\n' +
    `Cells: ms after +switch-master until an operation issued after the switch succeeds on the new master and every later one does too;\n` +
    `  one operation every ${TICK_MS} ms per row; "never" = not back within ${DEADLINE_MS / 1000} s of the switch, without a restart.\n` +
    '  "acked jobs lost": acknowledged enqueues never processed and gone from the final master; "msgs lost": broadcasts\n' +
    '  (whole run) that never reached the client on server B; "unhandled rejections": counted per row instead of crashing.',
);

const results = new Map<Scenario, Row[]>();
for (const kind of scenarios) {
  results.set(kind, await runScenario(kind));
}

const header = ['Integration', 'Client', ...scenarios.map((s) => SCENARIO_TITLES[s])];
console.log(`\n| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
const misses: string[] = [];
for (const integration of INTEGRATIONS) {
  for (const variant of VARIANTS) {
    const cells = scenarios.map((kind) => {
      const row = results.get(kind)!.find((r) => r.integration === integration && r.variant === variant)!;
      const unh = row.unhandled;
      let cell = fmt(row.recoveryMs);
      if (row.probe.lostDurable !== undefined) cell += `; ${row.probe.lostDurable} acked jobs lost`;
      if (row.probe.lostMessages !== undefined) cell += `; ${row.probe.lostMessages} msgs lost`;
      if (unh > 0) cell += `; ${unh} unhandled rejections`;
      if (variant === 'module') {
        if (row.recoveryMs === undefined || row.recoveryMs > TARGET_MS)
          misses.push(`${row.label} in "${SCENARIO_TITLES[kind]}": ${fmt(row.recoveryMs)}`);
        if (row.probe.lostDurable)
          misses.push(
            `${row.label} in "${SCENARIO_TITLES[kind]}": ${row.probe.lostDurable} acked durable jobs lost`,
          );
      }
      return cell;
    });
    console.log(`| ${integration} | ${variant} | ${cells.join(' | ')} |`);
  }
}

if (misses.length > 0) {
  console.log(
    `\nModule target missed (every module row back within ${TARGET_MS} ms, zero acked durable jobs lost):`,
  );
  for (const m of misses) console.log(`  - ${m}`);
  process.exit(1);
}
console.log(
  `\nModule target met: every module row back within ${TARGET_MS} ms of +switch-master, zero acked durable jobs lost.`,
);
process.exit(0);
