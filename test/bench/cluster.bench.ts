/**
 * Redis Cluster failover benchmark: ioredis `Cluster` with its default options vs
 * `RedisClusterModule`, side by side on ONE real cluster (3 masters x 1 replica, password,
 * cluster-node-timeout 1000 ms), same faults at the same time.
 *
 *   npm run bench:cluster -- [--failovers 10]
 *
 * Each round fails the master of one shard (SIGKILL and SIGSTOP alternate), waits for the
 * promotion, then brings the old master back (restart / thaw) so that it rejoins as a replica.
 * The reference clock is an independent connection asking the shard's replica `ROLE` every 5 ms:
 * "promoted" is the first time it answers `master`. Per client and round:
 * - recovery: ms from the promotion to the first acknowledged plain write on the failed shard;
 * - the longest single command (plain and durable writes, all shards);
 * - acknowledged durable writes (SET + WAIT 1 in one pipeline) missing at the end.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { Cluster, Redis } from 'ioredis';
import {
  durableWrite,
  RedisClusterClientsService,
  RedisClusterEvents,
  RedisClusterModule,
} from '@bastion/redis-sentinel';
import { RedisCluster, slotOwners, type RedisClusterNode } from '@bastion/redis-topology';

const { values: args } = parseArgs({ options: { failovers: { type: 'string', default: '10' } } });
const FAILOVERS = Number(args.failovers);
const PASSWORD = 'bench-cluster-pw';
const RECOVERY_CAP_MS = 15_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One client under test: plain SETs and durable SET + WAIT 1 on the failed shard's hash tag. */
class Load {
  readonly acks: number[] = [];
  readonly durableAcked: string[] = [];
  failed = 0;
  maxLatency = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private seq = 0;
  private readonly inflight = new Set<{ t0: number }>();

  constructor(
    readonly label: string,
    readonly redis: Cluster,
    private readonly tag: string,
    private readonly writeDurably: (key: string) => Promise<void>,
  ) {}

  start(): void {
    this.running = true;
    this.loops = [this.loop(false), this.loop(false), this.loop(true)];
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** The longest command since the last call: finished ones, and the ones still waiting (a client stuck on a frozen node). */
  takeMaxLatency(): number {
    const now = Date.now();
    const m = Math.max(this.maxLatency, ...[...this.inflight].map(({ t0 }) => now - t0));
    this.maxLatency = 0;
    return m;
  }

  private async loop(durable: boolean): Promise<void> {
    while (this.running) {
      const key = `{${this.tag}}:${this.label}:${durable ? 'd' : 'p'}:${++this.seq}`;
      const t0 = Date.now();
      const pending = { t0 };
      this.inflight.add(pending);
      try {
        if (durable) {
          await this.writeDurably(key);
          this.durableAcked.push(key);
        } else {
          await this.redis.set(key, '1');
          this.acks.push(Date.now());
        }
      } catch {
        this.failed++;
      }
      this.inflight.delete(pending);
      this.maxLatency = Math.max(this.maxLatency, Date.now() - t0);
      await sleep(5);
    }
  }
}

async function plainDurable(redis: Cluster, key: string): Promise<void> {
  const replies = await redis.pipeline().set(key, '1').call('WAIT', 1, 500).exec();
  const [[e1], [e2, acked]] = replies as [[Error | null], [Error | null, number]];
  if (e1) throw e1;
  if (e2 || Number(acked) < 1) throw new Error('not acknowledged by a replica');
}

/** Polls ROLE on `node` every 5 ms until it answers master; resolves with that time. */
async function promotedAt(cluster: RedisCluster, node: RedisClusterNode, capMs: number): Promise<number> {
  const client = new Redis({
    ...cluster.connectionOptions(node),
    commandTimeout: 500,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => undefined);
  const deadline = Date.now() + capMs;
  try {
    while (Date.now() < deadline) {
      const role = (await client.call('ROLE').catch(() => ['?'])) as unknown[];
      if (role[0] === 'master') return Date.now();
      await sleep(5);
    }
    throw new Error(`${node.name} was not promoted within ${capMs} ms`);
  } finally {
    client.disconnect();
  }
}

function stats(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const sorted = values.toSorted((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `median ${at(0.5)} / p90 ${at(0.9)} / max ${sorted.at(-1)}`;
}

async function main(): Promise<void> {
  const cluster = await RedisCluster.start({ password: PASSWORD, nodeTimeoutMs: 1000 });
  const app = await NestFactory.createApplicationContext(
    // Durable writes on a client of their own: WAIT holds up every later command on its
    // connection until enough replicas acknowledge, e.g. for timeoutMs right after a promotion
    // that left the new master without a replica.
    RedisClusterModule.forRoot({
      nodes: cluster.seedNodes,
      password: PASSWORD,
      clients: { default: 'master', durable: 'master' },
    }),
    { logger: ['error'] },
  );
  const plain = new Cluster(cluster.seedNodes, { redisOptions: { password: PASSWORD } });
  const plainDurableClient = new Cluster(cluster.seedNodes, { redisOptions: { password: PASSWORD } });
  plain.on('error', () => undefined);
  plainDurableClient.on('error', () => undefined);
  try {
    const managed = app.get(RedisClusterClientsService).get();
    const managedDurable = app.get(RedisClusterClientsService).get('durable');
    // When the module's main client first saw a new owner for the failed shard's slots.
    let ownerChangeAt = 0;
    app.get(RedisClusterEvents).on('slot-owner-change', (e) => {
      if (e.client === 'default' && ownerChangeAt === 0) ownerChangeAt = Date.now();
    });
    // A hash tag on the first master's slots: every round fails whichever node serves it then.
    const masters = await cluster.masters();
    const owners = slotOwners(await cluster.view(masters[0]!));
    let tag = 'bench';
    for (let i = 0; owners[cluster.slotOf(tag)] !== masters[0]!.id; i++) tag = `bench${i}`;
    const loads = [
      new Load('ioredis-defaults', plain, tag, (key) => plainDurable(plainDurableClient, key)),
      new Load('module', managed, tag, async (key) => {
        await durableWrite(managedDurable, (p) => p.set(key, '1'), { replicas: 1, timeoutMs: 500 });
      }),
    ];
    await plain.set(`{${tag}}:warmup`, '1');
    for (const load of loads) load.start();
    const samples = new Map<string, { recovery: number[]; longest: number[] }>(
      loads.map((l) => [l.label, { recovery: [], longest: [] }]),
    );
    for (let round = 1; round <= FAILOVERS; round++) {
      const victim = await cluster.masterForKey(`{${tag}}`);
      const [replica] = await cluster.replicasOf(victim);
      const kind = round % 2 === 1 ? 'SIGKILL' : 'SIGSTOP';
      await sleep(500);
      for (const load of loads) load.takeMaxLatency();
      ownerChangeAt = 0;
      if (kind === 'SIGKILL') await cluster.kill(victim);
      else cluster.freeze(victim);
      const promoted = await promotedAt(cluster, replica!, 20_000);
      await sleep(200);
      const line: string[] = [];
      for (const load of loads) {
        const deadline = Date.now() + RECOVERY_CAP_MS;
        while (!load.acks.some((t) => t > promoted) && Date.now() < deadline) await sleep(5);
        const first = load.acks.find((t) => t > promoted);
        const recovery = first === undefined ? RECOVERY_CAP_MS : first - promoted;
        samples.get(load.label)!.recovery.push(recovery);
        line.push(`${load.label} +${recovery} ms`);
      }
      await sleep(300);
      for (const load of loads) {
        const longest = load.takeMaxLatency();
        samples.get(load.label)!.longest.push(longest);
        line.push(`${load.label} longest ${longest} ms`);
      }
      const seen = ownerChangeAt ? `${ownerChangeAt - promoted} ms after the promotion` : 'not yet';
      console.log(
        `round ${round} ${kind} ${victim.name} -> ${replica!.name}: ${line.join(', ')} (module saw the new owner ${seen})`,
      );
      await cluster.waitForPromotion(victim);
      if (kind === 'SIGKILL') await cluster.restart(victim);
      else cluster.thaw(victim);
      await cluster.waitClusterOk(60_000);
    }
    for (const load of loads) await load.stop();
    console.log(
      '\n| client | first ack after promotion (ms) | longest command (ms) | failed writes | acknowledged durable writes lost |',
    );
    console.log('|---|---|---|---|---|');
    for (const load of loads) {
      let lost = 0;
      for (const key of load.durableAcked) if ((await managed.exists(key)) === 0) lost++;
      const s = samples.get(load.label)!;
      console.log(
        `| ${load.label} | ${stats(s.recovery)} | ${stats(s.longest)} | ${load.failed} | ${lost} of ${load.durableAcked.length} |`,
      );
    }
  } finally {
    plain.disconnect();
    plainDurableClient.disconnect();
    await app.close();
    await cluster.teardown();
  }
}

await main();
