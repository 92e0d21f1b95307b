/**
 * Failover benchmark: plain ioredis (default options) vs @bastion/redis-sentinel, side by side
 * on ONE real topology (1 master, 2 replicas, 3 Sentinels, down-after 1000 ms), same faults.
 *
 *   npm run bench:failover -- [--failovers 20] [--plain-failovers 3] [--freeze-ms 12000]
 *
 * Faults cycle SIGKILL → SIGSTOP → manual SENTINEL FAILOVER. Plain ioredis takes part in the
 * first `--plain-failovers` (it can stay on a frozen or demoted master for many seconds), the
 * module in all of them. Per client and fault:
 * - recovery: first acknowledged write (after +switch-master) that is on the new master —
 *   "from fault" and "after +switch-master" (the reference clock is an independent subscriber);
 * - longest latency of a single command;
 * - acknowledged writes lost (plain SET, and durable XADD + WAIT 1).
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import {
  RedisClientsService,
  RedisSentinelModule,
  durableWrite,
  DurableWriteError,
} from '@bastion/redis-sentinel';
import { RedisTopology, type RedisNode } from '@bastion/redis-topology';
import { triggerFailoverWithRetry, watchSwitches } from '../support/sentinel-clock.js';

const { values: args } = parseArgs({
  options: {
    failovers: { type: 'string', default: '20' },
    'plain-failovers': { type: 'string', default: '3' },
    'freeze-ms': { type: 'string', default: '12000' },
  },
});
const FAILOVERS = Number(args.failovers);
const PLAIN_FAILOVERS = Math.min(Number(args['plain-failovers']), FAILOVERS);
const FREEZE_MS = Number(args['freeze-ms']);
const RECOVERY_CAP_MS = 30_000;
const PASSWORD = 'bench-data-pw';
const SENTINEL_PASSWORD = 'bench-sentinel-pw';
const KINDS = ['SIGKILL', 'SIGSTOP', 'manual'] as const;
type Kind = (typeof KINDS)[number];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Ack {
  at: number;
  key: string;
}

/** One client under test: a plain write loop and a durable write loop. */
class Load {
  readonly plain: Ack[] = [];
  readonly durable: Ack[] = [];
  durableUnconfirmed = 0;
  failed = 0;
  maxLatency = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private seq = 0;

  constructor(
    readonly label: string,
    readonly redis: Redis,
    private readonly writeDurably: (redis: Redis, stream: string, value: string) => Promise<string>,
  ) {}

  start(): void {
    this.running = true;
    this.loops = [this.plainLoop(), this.durableLoop()];
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Resets the per-failover latency maximum and returns the old one. */
  takeMaxLatency(): number {
    const m = this.maxLatency;
    this.maxLatency = 0;
    return m;
  }

  private async plainLoop(): Promise<void> {
    while (this.running) {
      const key = `bench:${this.label}:${++this.seq}`;
      const t0 = Date.now();
      try {
        await this.redis.set(key, '1');
        this.plain.push({ at: Date.now(), key });
      } catch {
        this.failed++;
      }
      this.maxLatency = Math.max(this.maxLatency, Date.now() - t0);
      await sleep(5);
    }
  }

  private async durableLoop(): Promise<void> {
    while (this.running) {
      const t0 = Date.now();
      try {
        const id = await this.writeDurably(this.redis, `bench:${this.label}:stream`, String(t0));
        this.durable.push({ at: Date.now(), key: id });
      } catch (err) {
        if (err instanceof DurableWriteError) this.durableUnconfirmed++;
        else this.failed++;
      }
      this.maxLatency = Math.max(this.maxLatency, Date.now() - t0);
      await sleep(5);
    }
  }
}

/** Plain ioredis: the same XADD + WAIT 1 in one pipeline, checking WAIT's count by hand. */
async function plainDurableWrite(redis: Redis, stream: string, value: string): Promise<string> {
  const replies = await redis.pipeline().xadd(stream, '*', 'v', value).call('WAIT', 1, 500).exec();
  const [[e1, id], [e2, acked]] = replies as [[Error | null, string], [Error | null, number]];
  if (e1) throw e1;
  if (e2 || Number(acked) < 1) throw new DurableWriteError(1, Number(acked) || 0, 500, [id]);
  return id;
}

async function moduleDurableWrite(redis: Redis, stream: string, value: string): Promise<string> {
  const [id] = await durableWrite(redis, (p) => p.xadd(stream, '*', 'v', value), {
    replicas: 1,
    timeoutMs: 500,
  });
  return String(id);
}

interface Sample {
  kind: Kind;
  client: string;
  fromFault: number | undefined;
  afterSwitch: number | undefined;
  maxLatency: number;
}

async function main(): Promise<void> {
  console.log(
    `Failover benchmark: ${FAILOVERS} failovers (plain ioredis in the first ${PLAIN_FAILOVERS}), freeze ${FREEZE_MS} ms`,
  );
  const topo = await RedisTopology.start({
    password: PASSWORD,
    sentinelPassword: SENTINEL_PASSWORD,
    downAfterMs: 1000,
  });
  const observer = await watchSwitches(topo, SENTINEL_PASSWORD);
  const plainRedis = new Redis({
    sentinels: topo.sentinelAddresses,
    name: topo.masterName,
    password: PASSWORD,
    sentinelPassword: SENTINEL_PASSWORD,
  });
  plainRedis.on('error', () => undefined);
  const app = await NestFactory.createApplicationContext(
    RedisSentinelModule.forRoot({
      sentinels: topo.sentinelList,
      masterName: topo.masterName,
      password: PASSWORD,
      sentinelPassword: SENTINEL_PASSWORD,
    }),
    { logger: false },
  );
  const moduleRedis = app.get(RedisClientsService).get();
  const loads = [
    new Load('plain', plainRedis, plainDurableWrite),
    new Load('module', moduleRedis, moduleDurableWrite),
  ];
  loads.forEach((l) => l.start());
  const samples: Sample[] = [];
  const started = Date.now();

  try {
    for (let i = 0; i < FAILOVERS; i++) {
      const kind = KINDS[i % KINDS.length]!;
      const active = i < PLAIN_FAILOVERS ? loads : [loads[1]!];
      if (i === PLAIN_FAILOVERS && loads[0]!.redis.status !== 'end') {
        await loads[0]!.stop();
        plainRedis.disconnect();
      }
      const oldPort = (await topo.currentMasterPort())!;
      const oldNode = topo.nodeByPort(oldPort);
      await sleep(300);
      active.forEach((l) => l.takeMaxLatency());
      const switchesBefore = observer.switches.length;
      const faultAt = Date.now();
      if (kind === 'SIGKILL') await topo.kill(oldNode);
      else if (kind === 'SIGSTOP') topo.freeze(oldNode);
      else await triggerFailoverWithRetry(topo);
      const newPort = await topo.waitForNewMaster(oldPort, 30_000);
      await waitUntil(() => observer.switches.length > switchesBefore, 5000);
      const switchAt = observer.switches[switchesBefore]!.at;
      const newNode = topo.nodeByPort(newPort);

      // Let every active client recover (or hit the cap), holding a frozen master for FREEZE_MS.
      const recoveredBy = async (l: Load) => firstOnNewMaster(topo, newNode, l.plain, switchAt);
      const deadline = switchAt + RECOVERY_CAP_MS;
      const thawAt = faultAt + FREEZE_MS;
      for (;;) {
        if (kind === 'SIGSTOP' && oldNode.stopped && (Date.now() >= thawAt || active.length === 1)) {
          const all = await Promise.all(active.map(recoveredBy));
          if (Date.now() >= thawAt || all.every((a) => a !== undefined)) topo.thaw(oldNode);
        }
        const all = await Promise.all(active.map(recoveredBy));
        if ((all.every((a) => a !== undefined) && !oldNode.stopped) || Date.now() > deadline) break;
        await sleep(100);
      }
      if (oldNode.stopped) topo.thaw(oldNode);
      // Give a client that went back to the thawed/demoted master the chance to lose writes, then settle.
      if (kind === 'SIGKILL') await topo.restart(oldNode);
      await settle(topo, newPort);
      for (const l of active) {
        const rec = await recoveredBy(l);
        samples.push({
          kind,
          client: l.label,
          fromFault: rec === undefined ? undefined : rec - faultAt,
          afterSwitch: rec === undefined ? undefined : rec - switchAt,
          maxLatency: l.takeMaxLatency(),
        });
      }
      const last = samples.slice(-active.length);
      console.log(
        `#${i + 1} ${kind.padEnd(7)} switch after ${switchAt - faultAt} ms | ` +
          last
            .map((s) => `${s.client}: +${fmt(s.afterSwitch)} ms after switch, max cmd ${s.maxLatency} ms`)
            .join(' | '),
      );
    }
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
  }

  const masterPort = (await topo.currentMasterPort())!;
  const master = topo.nodeByPort(masterPort);
  console.log(`\n${FAILOVERS} failovers in ${Math.round((Date.now() - started) / 1000)} s\n`);
  console.log(
    pad('client', 8) +
      pad('fault', 8) +
      pad('n', 3) +
      pad('ms from fault (med/max)', 25) +
      pad('ms after +switch-master (med/max)', 35) +
      'longest command ms',
  );
  for (const client of ['plain', 'module']) {
    for (const kind of KINDS) {
      const s = samples.filter((x) => x.client === client && x.kind === kind);
      if (s.length === 0) continue;
      console.log(
        pad(client, 8) +
          pad(kind, 8) +
          pad(String(s.length), 3) +
          pad(stat(s.map((x) => x.fromFault)), 25) +
          pad(stat(s.map((x) => x.afterSwitch)), 35) +
          Math.max(...s.map((x) => x.maxLatency)),
      );
    }
  }
  console.log('\nacknowledged writes lost (checked on the final master):');
  for (const l of loads) {
    const lostPlain = await countMissingKeys(topo, master, l.plain);
    const ids = new Set(
      (
        (await topo.command(master, 'XRANGE', `bench:${l.label}:stream`, '-', '+')) as unknown as string[][]
      ).map((e) => e[0]),
    );
    const lostDurable = l.durable.filter((d) => !ids.has(d.key)).length;
    console.log(
      `${pad(l.label, 8)} plain SET: ${lostPlain} lost of ${l.plain.length} acked | durable XADD+WAIT 1: ` +
        `${lostDurable} lost of ${l.durable.length} acked (${l.durableUnconfirmed} refused/unconfirmed) | failed commands: ${l.failed}`,
    );
  }
  const worst = Math.max(
    ...samples.filter((s) => s.client === 'module').map((s) => s.afterSwitch ?? Infinity),
  );
  console.log(`\nmodule target (<= 100 ms after +switch-master in every case): worst ${fmt(worst)} ms`);

  observer.close();
  await app.close();
  await topo.teardown();
}

/** Time of the first acknowledged write after `switchAt` that is present on the new master. */
async function firstOnNewMaster(topo: RedisTopology, node: RedisNode, acks: Ack[], switchAt: number) {
  const candidates = acks.filter((a) => a.at >= switchAt).slice(0, 200);
  if (candidates.length === 0) return undefined;
  try {
    const values = (await topo.command(node, 'MGET', ...candidates.map((c) => c.key))) as unknown as Array<
      string | null
    >;
    const i = values.findIndex((v) => v === '1');
    return i === -1 ? undefined : candidates[i]!.at;
  } catch {
    return undefined;
  }
}

async function countMissingKeys(topo: RedisTopology, node: RedisNode, acks: Ack[]): Promise<number> {
  let missing = 0;
  for (let i = 0; i < acks.length; i += 500) {
    const batch = acks.slice(i, i + 500);
    const values = (await topo.command(node, 'MGET', ...batch.map((b) => b.key))) as unknown as Array<
      string | null
    >;
    missing += values.filter((v) => v !== '1').length;
  }
  return missing;
}

/** Waits until the new master has both replicas online and every Sentinel agrees. */
async function settle(topo: RedisTopology, masterPort: number): Promise<void> {
  const node = topo.nodeByPort(masterPort);
  await topo.waitUntil(
    async () => {
      const info = await topo.command(node, 'INFO', 'replication');
      return /connected_slaves:2/.test(info) && (info.match(/state=online/g) ?? []).length === 2;
    },
    'the new master has 2 online replicas',
    60_000,
  );
  await topo.waitSettled(masterPort, 60_000);
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

function stat(values: Array<number | undefined>): string {
  if (values.some((v) => v === undefined)) return `not recovered in ${RECOVERY_CAP_MS / 1000} s`;
  const sorted = (values as number[]).toSorted((a, b) => a - b);
  return `${sorted[Math.floor((sorted.length - 1) / 2)]} / ${sorted.at(-1)}`;
}

const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : String(v));
const pad = (s: string, n: number) => s.padEnd(n);

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
