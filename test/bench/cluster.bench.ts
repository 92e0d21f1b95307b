/**
 * Cluster failover benchmark (issue 16): a client of a REAL Redis Cluster (3 masters + 3 replicas
 * started by RedisCluster, cluster-node-timeout 1000 ms by default) under write load while the
 * master that owns a fixed test slot fails, over and over.
 *
 *   npm run bench:cluster -- [--failovers 10] [--kinds SIGKILL,SIGSTOP,manual] [--node-timeout-ms 1000]
 *                            [--recovery-cap-ms 5000] [--deadline-ms 5000]
 *
 * One row per client under test (`ROWS`, each a label and a client factory); every row runs its
 * own load at the same time through the same faults: the baseline, ioredis `Cluster` with default
 * options, and `RedisClusterModule` with its defaults.
 *
 * Kinds of failover (`--failovers` rounds of each): SIGKILL of the master of the test slot
 * (restarted afterwards: it rejoins empty as a replica), SIGSTOP of it (thawed once every row
 * wrote to the new master, or after the recovery cap), and a manual `CLUSTER FAILOVER` on its
 * replica. Every round starts from 3 masters with one synced replica each.
 *
 * Load per row and round (fresh keys each round, so every counter starts at 0): 4 writers INCR a
 * counter each in the failing shard (hash tag), 2 in another shard, 2 more in the failing shard
 * run `pipeline().incr(k).wait(1, 500)` (confirmed = WAIT counted a replica). Each writer waits
 * for its reply before the next command. The bench puts a deadline on every call (`--deadline-ms`,
 * ioredis has no command timeout by default): a call past it counts as failed and the writer moves
 * on (the command may still be applied later).
 *
 * Per round and row:
 * - promotion: the first moment every reachable node (the old master included, after a manual
 *   failover) names one live master other than the old one for the test slot, polled every 5 ms
 *   on standing connections;
 * - ms after that to the first acknowledged write in the failed shard;
 * - the longest single command (the bench's deadline when a call never came back);
 * - acknowledged writes lost: a writer's replies are the counter's successive values, so a reply
 *   that a later reply or the final value (read on the master after the round) goes below was
 *   lost. A lower bound: a counter cannot tell a lost acknowledged INCR from an unacknowledged
 *   one applied in its place;
 * - applied without acknowledgement: final value minus the acknowledged INCRs that survived (> 0:
 *   a call the caller saw fail was applied anyway, or the client resent one already applied, as
 *   ioredis does after "Connection is closed");
 * - recovered without restart: the row wrote to the new master within the cap, before the old
 *   node came back (thaw / restart) and without the bench recreating the client.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { Cluster, Redis } from 'ioredis';
import {
  durableWrite,
  DurableWriteError,
  RedisClusterClientsService,
  RedisClusterModule,
} from '@bastion/redis-sentinel';
import {
  RedisCluster,
  isLiveMaster,
  parseClusterNodes,
  slotOwners,
  type RedisClusterNode,
} from '@bastion/redis-topology';

const { values: args } = parseArgs({
  options: {
    failovers: { type: 'string', default: '10' },
    kinds: { type: 'string', default: 'SIGKILL,SIGSTOP,manual' },
    'node-timeout-ms': { type: 'string', default: '1000' },
    'recovery-cap-ms': { type: 'string', default: '5000' },
    'deadline-ms': { type: 'string', default: '5000' },
  },
});
const KINDS = ['SIGKILL', 'SIGSTOP', 'manual'] as const;
type Kind = (typeof KINDS)[number];
const FAILOVERS = positiveInt(args.failovers, '--failovers');
const NODE_TIMEOUT_MS = positiveInt(args['node-timeout-ms'], '--node-timeout-ms');
const RECOVERY_CAP_MS = positiveInt(args['recovery-cap-ms'], '--recovery-cap-ms');
const DEADLINE_MS = positiveInt(args['deadline-ms'], '--deadline-ms');
const SELECTED_KINDS = args.kinds.split(',').map((k) => {
  if (!(KINDS as readonly string[]).includes(k))
    throw new Error(`--kinds: unknown kind ${k} (${KINDS.join(', ')})`);
  return k as Kind;
});
const PASSWORD = 'bench-cluster-pw';
/** The failing shard's keys carry this tag; the other shard's keys a tag on another master. */
const TEST_TAG = 'bench-failover';
const PLAIN_WRITERS = 4;
const OTHER_WRITERS = 2;
const WAIT_WRITERS = 2;
const PROMOTION_TIMEOUT_MS = 30_000;

/** A client under test, as a row of the table. */
export interface ClientRow {
  label: string;
  makeClient(cluster: RedisCluster): Promise<RowClient>;
}

export interface RowClient {
  /** Takes INCR; `durableIncr` runs on it too unless the row gives its own. */
  client: Cluster;
  close(): Promise<void>;
  /** INCR confirmed by one replica. Default: `pipeline().incr(key).wait(1, 500)`. */
  durableIncr?(key: string): Promise<{ value: number; confirmed: boolean }>;
}

const ROWS: ClientRow[] = [
  {
    label: 'ioredis',
    async makeClient(cluster) {
      // Default options: only the password, as an application would pass it.
      const client = new Cluster(cluster.seedNodes, { redisOptions: { password: PASSWORD } });
      client.on('error', () => undefined); // without a listener an 'error' event would crash the bench
      await withDeadline(
        new Promise<void>((resolve, reject) => {
          client.once('ready', resolve);
          client.once('end', () => reject(new Error('ioredis Cluster ended before ready')));
        }),
        10_000,
        'ioredis Cluster ready',
      ).catch((err: unknown) => {
        client.disconnect();
        throw err;
      });
      return {
        client,
        async close() {
          client.disconnect();
        },
      };
    },
  },
  {
    label: 'module',
    async makeClient(cluster) {
      // Module defaults; durable writes on a client of their own: WAIT holds up the later commands
      // of its connection, the whole timeout right after a promotion left the master without replica.
      const app = await NestFactory.createApplicationContext(
        RedisClusterModule.forRoot({
          nodes: cluster.seedNodes,
          password: PASSWORD,
          clients: { default: 'master', durable: 'master' },
        }),
        { logger: ['error'] },
      );
      const clients = app.get(RedisClusterClientsService);
      const durable = clients.get('durable');
      return {
        client: clients.get(),
        async close() {
          await app.close();
        },
        async durableIncr(key) {
          try {
            const [value] = await durableWrite(durable, (p) => p.incr(key), { replicas: 1, timeoutMs: 500 });
            return { value: Number(value), confirmed: true };
          } catch (err) {
            // Applied, not confirmed by a replica: the INCR's reply is in `results`.
            if (err instanceof DurableWriteError && err.results.length > 0) {
              return { value: Number(err.results[0]), confirmed: false };
            }
            throw err;
          }
        },
      };
    },
  },
];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const now = () => performance.now();

class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

interface Reply {
  value: number;
  confirmed: boolean;
  at: number;
}

type WriterKind = 'plain' | 'other' | 'wait';

/** One sequential writer: INCR (or INCR + WAIT) on its own counter until stopped. */
class Writer {
  readonly replies: Reply[] = [];
  failed = 0;
  timedOut = 0;
  maxLatency = 0;
  /** Error messages of failed calls (numbers and addresses blanked) and how often each came. */
  readonly errors = new Map<string, number>();
  private running = true;
  readonly done: Promise<void>;

  constructor(
    readonly kind: WriterKind,
    readonly key: string,
    private readonly rowClient: RowClient,
  ) {
    this.done = this.loop();
  }

  stop(): Promise<void> {
    this.running = false;
    return this.done;
  }

  private async once(): Promise<Reply> {
    const { client, durableIncr } = this.rowClient;
    if (this.kind !== 'wait') return { value: await client.incr(this.key), confirmed: false, at: 0 };
    if (durableIncr) return { ...(await durableIncr(this.key)), at: 0 };
    const replies = await client.pipeline().incr(this.key).wait(1, 500).exec();
    const [incrErr, value] = replies?.[0] ?? [new Error('empty pipeline reply')];
    if (incrErr) throw incrErr;
    const [waitErr, replicas] = replies?.[1] ?? [null, 0];
    return { value: Number(value), confirmed: !waitErr && Number(replicas) >= 1, at: 0 };
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const t0 = now();
      try {
        const reply = await withDeadline(this.once(), DEADLINE_MS, `INCR ${this.key}`);
        this.replies.push({ ...reply, at: now() });
      } catch (err) {
        if (err instanceof DeadlineError) this.timedOut++;
        else {
          this.failed++;
          const message = String((err as Error).message ?? err)
            .replace(/\d+(\.\d+)*(:\d+)?/g, 'N')
            .slice(0, 90);
          this.errors.set(message, (this.errors.get(message) ?? 0) + 1);
        }
      }
      this.maxLatency = Math.max(this.maxLatency, now() - t0);
      await sleep(1);
    }
  }
}

/** The writers in the failing shard (plain and WAIT ones). */
function failedShard(ws: Writer[]): Writer[] {
  return ws.filter((w) => w.kind !== 'other');
}

/** The first acknowledged write in the failed shard at or after `t`. */
function firstAckAfter(ws: Writer[], t: number): number | undefined {
  let first: number | undefined;
  for (const w of failedShard(ws)) {
    const r = w.replies.find((x) => x.at >= t);
    if (r && (first === undefined || r.at < first)) first = r.at;
  }
  return first;
}

/** Lost acknowledged replies (and confirmed ones among them), applied-without-ack, given the final value. */
function account(replies: readonly Reply[], final: number) {
  let floor = final;
  let lost = 0;
  let confirmedLost = 0;
  for (let i = replies.length - 1; i >= 0; i--) {
    const r = replies[i]!;
    if (r.value > floor) {
      lost++;
      if (r.confirmed) confirmedLost++;
    }
    floor = Math.min(floor, r.value - 1);
  }
  return { lost, confirmedLost, appliedWithoutAck: final - (replies.length - lost) };
}

interface RowRound {
  row: string;
  kind: Kind;
  /** ms from the promotion to the first acknowledged write in the failed shard; undefined: never. */
  firstAckMs: number | undefined;
  recovery: 'own' | 'after node back' | 'timeout';
  longestMs: number;
  otherLongestMs: number;
  acked: number;
  lost: number;
  confirmed: number;
  confirmedLost: number;
  appliedWithoutAck: number;
  failed: number;
  timedOut: number;
  clientRecreated: boolean;
  errors: Map<string, number>;
}

/** Standing connections to every node, to see the moment the cluster agrees on a new master. */
class AgreementWatch {
  private readonly clients = new Map<RedisClusterNode, Redis>();

  constructor(private readonly cluster: RedisCluster) {
    for (const node of cluster.nodes) {
      const client = new Redis({
        ...cluster.connectionOptions(node),
        commandTimeout: 500,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => 50,
      });
      client.on('error', () => undefined);
      this.clients.set(node, client);
    }
  }

  /** Resolves with the time every reachable node names a live master other than `oldMaster` for `slot`. */
  async waitForAgreement(oldMaster: RedisClusterNode, slot: number): Promise<{ at: number; id: string }> {
    const end = now() + PROMOTION_TIMEOUT_MS;
    while (now() < end) {
      try {
        const nodes = this.cluster.reachableNodes();
        const views = await Promise.all(
          nodes.map(async (n) =>
            parseClusterNodes(String(await this.clients.get(n)!.call('CLUSTER', 'NODES'))),
          ),
        );
        const at = now();
        const owners = views.map((v) => slotOwners(v)[slot]);
        const id = owners[0];
        if (
          nodes.length > 0 &&
          id !== undefined &&
          id !== oldMaster.id &&
          owners.every((o) => o === id) &&
          views.every((v) => v.some((e) => e.id === id && isLiveMaster(e)))
        ) {
          return { at, id };
        }
      } catch {
        // a node restarting or not answering yet: poll again
      }
      await sleep(5);
    }
    throw new Error(`no agreement on a new master for slot ${slot} within ${PROMOTION_TIMEOUT_MS} ms`);
  }

  close(): void {
    for (const client of this.clients.values()) client.disconnect();
  }
}

/** A tag whose slot is served by a master other than `notOn`. */
async function otherShardTag(cluster: RedisCluster, notOn: RedisClusterNode): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const tag = `bench-other-${i}`;
    if ((await cluster.masterForKey(`{${tag}}`)) !== notOn) return tag;
  }
  throw new Error('no tag found on another shard');
}

/** Every round starts here: cluster ok, 3 masters each with one replica whose link is up. */
async function waitFullTopology(cluster: RedisCluster): Promise<void> {
  await cluster.waitClusterOk(60_000);
  await cluster.waitUntil(
    async () => {
      const masters = await cluster.masters();
      if (masters.length !== 3) return false;
      for (const m of masters) if ((await cluster.replicasOf(m)).length !== 1) return false;
      return cluster.reachableNodes().length === 6;
    },
    '3 masters with one replica each',
    60_000,
  );
}

interface RowState {
  row: ClientRow;
  rc: RowClient;
}

async function runRound(
  cluster: RedisCluster,
  watch: AgreementWatch,
  states: RowState[],
  kind: Kind,
  round: number,
  otherTag: string,
): Promise<RowRound[]> {
  const slot = cluster.slotOf(`{${TEST_TAG}}`);
  const victim = await cluster.masterForKey(`{${TEST_TAG}}`);
  const [replica] = await cluster.replicasOf(victim);
  if (!replica) throw new Error(`${victim.name} has no replica`);

  const loads = states.map(({ row, rc }) => {
    const key = (tag: string, w: string) => `{${tag}}:${row.label}:r${round}:${w}`;
    return [
      ...Array.from({ length: PLAIN_WRITERS }, (_, i) => new Writer('plain', key(TEST_TAG, `p${i}`), rc)),
      ...Array.from({ length: OTHER_WRITERS }, (_, i) => new Writer('other', key(otherTag, `o${i}`), rc)),
      ...Array.from({ length: WAIT_WRITERS }, (_, i) => new Writer('wait', key(TEST_TAG, `w${i}`), rc)),
    ];
  });

  try {
    await sleep(300); // warm up: every writer has its connection and its slots
    for (const ws of loads) for (const w of ws) w.maxLatency = 0;

    const faultAt = now();
    const agreement = watch.waitForAgreement(victim, slot);
    if (kind === 'SIGKILL') await cluster.kill(victim);
    else if (kind === 'SIGSTOP') cluster.freeze(victim);
    else await cluster.manualFailover(replica, undefined, PROMOTION_TIMEOUT_MS);
    const promoted = await agreement;
    const promotedAt = promoted.at;

    // Wait for every row's first write on the new master (or the cap), the old node still down.
    const recoveredOwn = new Set<number>();
    const capEnd = promotedAt + RECOVERY_CAP_MS;
    while (now() < capEnd) {
      loads.forEach((ws, i) => firstAckAfter(ws, promotedAt) !== undefined && recoveredOwn.add(i));
      if (recoveredOwn.size === loads.length) break;
      await sleep(10);
    }
    loads.forEach((ws, i) => firstAckAfter(ws, promotedAt) !== undefined && recoveredOwn.add(i));
    // Bring the old node back (it rejoins as a replica of the promoted one).
    if (kind === 'SIGSTOP') cluster.thaw(victim);
    else if (kind === 'SIGKILL') await cluster.restart(victim);
    if (recoveredOwn.size < loads.length) {
      const end = now() + RECOVERY_CAP_MS;
      while (now() < end && loads.some((ws) => firstAckAfter(ws, promotedAt) === undefined)) await sleep(10);
    }
    await waitFullTopology(cluster);
    await sleep(200);
    await Promise.all(loads.flat().map((w) => w.stop()));
    await waitFullTopology(cluster);

    const promotionMs = Math.round(promotedAt - faultAt);
    const results: RowRound[] = [];
    for (const [i, ws] of loads.entries()) {
      const finals = await readFinals(cluster, ws);
      let lost = 0;
      let confirmedLost = 0;
      let appliedWithoutAck = 0;
      ws.forEach((w, j) => {
        const a = account(w.replies, finals[j]!);
        if (w.kind !== 'wait') lost += a.lost;
        confirmedLost += a.confirmedLost;
        appliedWithoutAck += a.appliedWithoutAck;
      });
      const first = firstAckAfter(ws, promotedAt);
      results.push({
        row: states[i]!.row.label,
        kind,
        firstAckMs: first === undefined ? undefined : Math.round(first - promotedAt),
        recovery: recoveredOwn.has(i) ? 'own' : first !== undefined ? 'after node back' : 'timeout',
        longestMs: Math.round(Math.max(...failedShard(ws).map((w) => w.maxLatency))),
        otherLongestMs: Math.round(
          Math.max(...ws.filter((w) => w.kind === 'other').map((w) => w.maxLatency)),
        ),
        acked: ws.filter((w) => w.kind !== 'wait').reduce((n, w) => n + w.replies.length, 0),
        lost,
        confirmed: ws.reduce((n, w) => n + w.replies.filter((r) => r.confirmed).length, 0),
        confirmedLost,
        appliedWithoutAck,
        failed: ws.reduce((n, w) => n + w.failed, 0),
        timedOut: ws.reduce((n, w) => n + w.timedOut, 0),
        clientRecreated: false,
        errors: mergeCounts(ws.map((w) => w.errors)),
      });
    }
    console.log(
      `#${String(round).padStart(2)} ${kind.padEnd(7)} ${victim.name} -> ${cluster.nodeById(promoted.id).name}, ` +
        `agreed ${promotionMs} ms after the fault | ` +
        results
          .map(
            (r) =>
              `${r.row}: first ack +${r.firstAckMs ?? 'never'} ms (${r.recovery}), longest ${r.longestMs} ms ` +
              `(other shard ${r.otherLongestMs}), lost ${r.lost}/${r.acked}, confirmed lost ${r.confirmedLost}/${r.confirmed}, ` +
              `applied w/o ack ${r.appliedWithoutAck}, failed ${r.failed}, timed out ${r.timedOut}`,
          )
          .join(' | '),
    );
    return results;
  } finally {
    const stillFrozen = cluster.nodes.find((n) => n.stopped);
    if (stillFrozen) cluster.thaw(stillFrozen);
    await Promise.all(loads.flat().map((w) => w.stop()));
  }
}

function mergeCounts(maps: Iterable<Map<string, number>>): Map<string, number> {
  const merged = new Map<string, number>();
  for (const m of maps) for (const [k, n] of m) merged.set(k, (merged.get(k) ?? 0) + n);
  return merged;
}

/** The writers' counters, read on the master of each key (not through the client under test). */
async function readFinals(cluster: RedisCluster, ws: Writer[]): Promise<number[]> {
  return Promise.all(
    ws.map(async (w) =>
      Number((await cluster.command(await cluster.masterForKey(w.key), 'GET', w.key)) ?? 0),
    ),
  );
}

/** Whether the client writes again in both shards (after a timeout round). */
async function healthy(rc: RowClient, otherTag: string): Promise<boolean> {
  try {
    await withDeadline(
      Promise.all([rc.client.incr(`{${TEST_TAG}}:probe`), rc.client.incr(`{${otherTag}}:probe`)]),
      2000,
      'probe',
    );
    return true;
  } catch {
    return false;
  }
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} takes a positive integer (got ${value})`);
  return n;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function printTable(results: RowRound[]): void {
  const header = [
    'kind',
    'row',
    'n',
    'first ack after promotion ms (med / p90 / max)',
    'longest command ms (med / max)',
    'acked lost',
    'WAIT-confirmed lost',
    'applied without ack',
    'recovered without restart',
  ];
  const lines: string[][] = [header];
  for (const kind of SELECTED_KINDS) {
    for (const row of ROWS) {
      const rs = results.filter((r) => r.kind === kind && r.row === row.label);
      if (rs.length === 0) continue;
      const acks = rs
        .flatMap((r) => (r.firstAckMs === undefined ? [] : [r.firstAckMs]))
        .toSorted((a, b) => a - b);
      const never = rs.length - acks.length;
      const longest = rs.map((r) => r.longestMs).toSorted((a, b) => a - b);
      const own = rs.filter((r) => r.recovery === 'own' && !r.clientRecreated).length;
      const late = rs.filter((r) => r.recovery === 'after node back').length;
      const sum = (f: (r: RowRound) => number) => rs.reduce((n, r) => n + f(r), 0);
      lines.push([
        kind,
        row.label,
        String(rs.length),
        (acks.length > 0 ? `${percentile(acks, 50)} / ${percentile(acks, 90)} / ${acks.at(-1)}` : 'none') +
          (never > 0 ? ` (${never} timeout)` : ''),
        `${percentile(longest, 50)} / ${longest.at(-1)}` +
          (longest.at(-1)! >= DEADLINE_MS ? ' (deadline)' : ''),
        `${sum((r) => r.lost)} of ${sum((r) => r.acked)}`,
        `${sum((r) => r.confirmedLost)} of ${sum((r) => r.confirmed)}`,
        String(sum((r) => r.appliedWithoutAck)),
        own === rs.length
          ? 'yes'
          : `no (${own}/${rs.length} on its own` +
            (late > 0 ? `, ${late} only once the old node was back` : '') +
            (never > 0 ? `, ${never} never` : '') +
            ')',
      ]);
    }
  }
  const widths = header.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  for (const [i, l] of lines.entries()) {
    console.log(
      l
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join(' | ')
        .trimEnd(),
    );
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  }
}

async function main(): Promise<void> {
  console.log(
    `Cluster failover benchmark: ${FAILOVERS} failover(s) of each kind (${SELECTED_KINDS.join(', ')}), ` +
      `3 masters + 3 replicas, cluster-node-timeout ${NODE_TIMEOUT_MS} ms, recovery cap ${RECOVERY_CAP_MS} ms, ` +
      `deadline per call ${DEADLINE_MS} ms`,
  );
  const started = now();
  const cluster = await RedisCluster.start({
    masters: 3,
    replicasPerMaster: 1,
    password: PASSWORD,
    nodeTimeoutMs: NODE_TIMEOUT_MS,
  });
  const watch = new AgreementWatch(cluster);
  const states: RowState[] = [];
  const results: RowRound[] = [];
  try {
    const otherTag = await otherShardTag(cluster, await cluster.masterForKey(`{${TEST_TAG}}`));
    for (const row of ROWS) states.push({ row, rc: await row.makeClient(cluster) });
    let round = 0;
    for (let i = 0; i < FAILOVERS; i++) {
      for (const kind of SELECTED_KINDS) {
        await waitFullTopology(cluster);
        const roundResults = await runRound(cluster, watch, states, kind, ++round, otherTag);
        for (const [j, state] of states.entries()) {
          if (roundResults[j]!.recovery !== 'timeout' && (await healthy(state.rc, otherTag))) continue;
          // The client never came back: record it and go on with a fresh one.
          roundResults[j]!.clientRecreated = true;
          await state.rc.close();
          state.rc = await state.row.makeClient(cluster);
        }
        results.push(...roundResults);
      }
    }
  } finally {
    watch.close();
    await Promise.all(states.map((s) => s.rc.close()));
    await cluster.teardown();
  }

  console.log(`\n${results.length / ROWS.length} failovers in ${Math.round((now() - started) / 1000)} s\n`);
  printTable(results);
  for (const row of ROWS) {
    for (const kind of SELECTED_KINDS) {
      const errors = mergeCounts(
        results.filter((r) => r.row === row.label && r.kind === kind).map((r) => r.errors),
      );
      if (errors.size === 0) continue;
      console.log(`\nerrors ${row.label} got on ${kind} (all rounds):`);
      for (const [message, n] of [...errors].toSorted((a, b) => b[1] - a[1]))
        console.log(`  ${n} x ${message}`);
    }
  }
  console.log(
    '\nmodule row: RedisClusterModule with its defaults (durable writes on a client of their own); target: first ack <= 100 ms after promotion (median), 0 WAIT-confirmed lost.',
  );
  console.log(
    'first ack: ms from the moment every reachable node agrees on the new master to the first acknowledged INCR in the failed shard.\n' +
      'acked lost: plain INCRs acknowledged then gone (a lower bound, from the replies and the final counters).\n' +
      'applied without ack: final counters minus the surviving acknowledged INCRs (a failed or resent call applied).\n' +
      `recovered without restart: the row wrote to the new master within ${RECOVERY_CAP_MS} ms of the promotion, before the old\n` +
      'node came back, without the bench recreating the client. Longest command at the deadline = a call that never returned.',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
