import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { isCluster } from './cluster-client.check.js';
import { nodeConnection, pipelineCommands, refreshSlots, slotMaster } from './cluster-internals.js';
import { clusterKeySlot } from './cluster-key-slot.js';
import { connectionEpoch } from './ioredis-internals.js';
import { managedClientOf, type DurableWriteCounts, type ManagedRedisClient } from './managed-redis-client.js';
import { managedClusterOf } from './managed-redis-cluster.js';
import { DurableWriteCrossSlotError, DurableWriteError } from './redis-sentinel.errors.js';
import { withDeadline } from './timing.js';

/** Options of `durableWrite()`. */
export interface DurableWriteOptions {
  /** Replicas that must acknowledge. Default 1: survives the loss of the master. */
  replicas?: number;
  /**
   * `WAIT` deadline. Default 500. Keep it below the client's `commandTimeoutMs` (default 2000),
   * which bounds the whole pipeline.
   */
  timeoutMs?: number;
  /**
   * Redis Cluster, `durableCall` only: a key the write touches. `WAIT` runs on the connection to
   * the master of its slot. Required with a `Cluster` (a `durableWrite` finds it in its pipeline).
   */
  key?: string | Buffer;
}

/**
 * Runs the writes queued by `build` followed by `WAIT replicas timeoutMs` in ONE pipeline on
 * the same connection, and returns the writes' results. Throws `DurableWriteError` when fewer
 * replicas acknowledged before the deadline, or when the connection changed in between (then
 * WAIT would count another connection's writes). A rejected write rejects with its own error.
 *
 * WAIT narrows the window in which an acknowledged write can be lost on failover; it does not
 * make Redis strongly consistent (see the README).
 */
export async function durableWrite(
  client: Redis | Cluster,
  build: (pipeline: ChainableCommander) => ChainableCommander,
  options: DurableWriteOptions = {},
): Promise<unknown[]> {
  const { replicas, timeoutMs } = resolveDurableOptions('durableWrite', options);
  if (isCluster(client)) {
    const counts = managedClusterOf(client)?.durableWrites;
    return countOutcome(counts, clusterWriteThenWait(client, counts, build, replicas, timeoutMs));
  }
  const managed = refuseDuringFailover(client, replicas, timeoutMs);
  return countOutcome(managed?.durableWrites, writeThenWait(client, managed, build, replicas, timeoutMs));
}

async function writeThenWait(
  client: Redis,
  managed: ManagedRedisClient | undefined,
  build: (pipeline: ChainableCommander) => ChainableCommander,
  replicas: number,
  timeoutMs: number,
): Promise<unknown[]> {
  const generationBefore = managed?.failover.generation ?? 0;
  const pipeline = build(client.pipeline());
  const writes = pipeline.length;
  if (writes === 0) throw new TypeError('durableWrite: the pipeline has no command');
  pipeline.call('WAIT', replicas, timeoutMs);
  const epochBefore = connectionEpoch(client);
  const replies = await pipeline.exec();
  const epochAfter = connectionEpoch(client);
  if (!replies) throw new Error('durableWrite: the pipeline was discarded');
  const changed = epochAfter !== epochBefore || failoverMayHaveRun(managed, generationBefore);
  return confirmedResults(replies, writes, replicas, timeoutMs, changed);
}

/**
 * `durableWrite` for a write that another library sends on `client` (BullMQ's `queue.add()`, a
 * store's `set`): awaits `write()`, then sends `WAIT` on the same connection and checks that no
 * reconnect or failover came in between, so WAIT counted that write. Returns `write()`'s result;
 * throws `DurableWriteError` (with that result in `results`) when replication is not confirmed.
 */
export async function durableCall<T>(
  client: Redis | Cluster,
  write: () => Promise<T>,
  options: DurableWriteOptions = {},
): Promise<T> {
  const { replicas, timeoutMs } = resolveDurableOptions('durableCall', options);
  if (isCluster(client)) {
    if (options.key === undefined) {
      throw new TypeError(
        'durableCall on a Redis Cluster: give options.key, a key the write touches (WAIT runs on its master)',
      );
    }
    const counts = managedClusterOf(client)?.durableWrites;
    return countOutcome(counts, clusterCallThenWait(client, write, options.key, replicas, timeoutMs));
  }
  const managed = refuseDuringFailover(client, replicas, timeoutMs);
  return countOutcome(managed?.durableWrites, callThenWait(client, managed, write, replicas, timeoutMs));
}

async function callThenWait<T>(
  client: Redis,
  managed: ManagedRedisClient | undefined,
  write: () => Promise<T>,
  replicas: number,
  timeoutMs: number,
): Promise<T> {
  const generationBefore = managed?.failover.generation ?? 0;
  const epochBefore = connectionEpoch(client);
  const result = await write();
  let acked: unknown;
  try {
    acked = await client.call('WAIT', replicas, timeoutMs);
  } catch (err) {
    throw waitFailed(replicas, timeoutMs, [result], err as Error);
  }
  if (connectionEpoch(client) !== epochBefore || failoverMayHaveRun(managed, generationBefore)) {
    throw connectionChanged(replicas, timeoutMs, [result]);
  }
  if (Number(acked) < replicas) throw new DurableWriteError(replicas, Number(acked), timeoutMs, [result]);
  return result;
}

function resolveDurableOptions(
  caller: string,
  options: DurableWriteOptions,
): { replicas: number; timeoutMs: number } {
  const replicas = options.replicas ?? 1;
  const timeoutMs = options.timeoutMs ?? 500;
  // WAIT 0 blocks the connection on the server until enough replicas ack: never let that happen.
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(
      `${caller}: timeoutMs must be a positive integer (got ${timeoutMs}); 0 would block forever`,
    );
  }
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new TypeError(`${caller}: replicas must be an integer >= 1 (got ${replicas})`);
  }
  return { replicas, timeoutMs };
}

/** Refusals are counted where they are thrown (before anything is written). */
function refuseDuringFailover(
  client: Redis,
  replicas: number,
  timeoutMs: number,
): ManagedRedisClient | undefined {
  const managed = managedClientOf(client);
  if (managed?.failover.inProgress) {
    managed.durableWrites.refused++;
    // The old master may still take the write while the replica that would acknowledge it is
    // about to be re-pointed: refuse before writing; the caller retries after the switch.
    throw new DurableWriteError(
      replicas,
      0,
      timeoutMs,
      [],
      'Durable write refused: a Sentinel failover is in progress',
    );
  }
  if (managed && !managed.failover.watched) {
    managed.durableWrites.refused++;
    // A Sentinel that is up but not heard could lead a failover unseen, while the old master
    // takes the write and a replica about to be re-pointed acknowledges it.
    throw new DurableWriteError(
      replicas,
      0,
      timeoutMs,
      [],
      'Durable write refused: not every Sentinel is heard, so a failover could run unseen; retry once they answer',
    );
  }
  return managed;
}

/**
 * Counts the outcome in the module's stats (`durableWrites`): confirmed when it resolves,
 * unconfirmed on a `DurableWriteError`. A write's own error (WRONGTYPE, a lost connection before
 * the reply) is neither. Two increments per call: nothing else is recorded.
 */
async function countOutcome<T>(counts: DurableWriteCounts | undefined, run: Promise<T>): Promise<T> {
  if (!counts) return run;
  try {
    const result = await run;
    counts.confirmed++;
    return result;
  } catch (err) {
    if (err instanceof DurableWriteError) counts.unconfirmed++;
    throw err;
  }
}

/** A failover started or switched since `generationBefore`, or the watcher lost sight of them. */
function failoverMayHaveRun(managed: ManagedRedisClient | undefined, generationBefore: number): boolean {
  return !!managed && (managed.failover.generation !== generationBefore || !managed.failover.watched);
}

/**
 * The writes' results from the replies of a pipeline whose last command is `WAIT`: a write's own
 * error is thrown as is; then a failed `WAIT`, a `changed` connection (WAIT may not have counted
 * the writes) or too few acknowledgements is a `DurableWriteError` carrying the results.
 */
function confirmedResults(
  replies: [error: Error | null, result: unknown][],
  writes: number,
  replicas: number,
  timeoutMs: number,
  changed: boolean,
): unknown[] {
  const results: unknown[] = [];
  for (let i = 0; i < writes; i++) {
    const [err, value] = replies[i]!;
    if (err) throw err;
    results.push(value);
  }
  const [waitErr, acked] = replies[writes]!;
  if (waitErr) throw waitFailed(replicas, timeoutMs, results, waitErr);
  if (changed) throw connectionChanged(replicas, timeoutMs, results);
  if (Number(acked) < replicas) throw new DurableWriteError(replicas, Number(acked), timeoutMs, results);
  return results;
}

function waitFailed(
  replicas: number,
  timeoutMs: number,
  results: unknown[],
  error: Error,
): DurableWriteError {
  return new DurableWriteError(
    replicas,
    0,
    timeoutMs,
    results,
    `Durable write: WAIT failed: ${error.message}`,
  );
}

function connectionChanged(replicas: number, timeoutMs: number, results: unknown[]): DurableWriteError {
  return new DurableWriteError(
    replicas,
    0,
    timeoutMs,
    results,
    'Durable write: the connection changed or a failover started before WAIT answered; replication is not confirmed',
  );
}

// ------------------------------------------------------------------------------- Redis Cluster

/** Attempts of a cluster durable write whose every write was refused by a redirect (never applied). */
const CLUSTER_ATTEMPTS = 3;
/** Replies that mean the node refused the command: it was not applied, sending it again is safe. */
const REFUSED = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /;

/** The node connection that serves `slot` now, and its connection epoch. */
function slotConnection(
  cluster: Cluster,
  slot: number,
): { node: Redis | undefined; epoch: number | undefined } {
  const node = nodeConnection(cluster, slotMaster(cluster, slot));
  // A connection not opened yet (lazy) opens for this write: its first socket is the one to compare.
  const opening = node?.status === 'wait' ? 1 : 0;
  return { node, epoch: node ? connectionEpoch(node) + opening : undefined };
}

/**
 * Cluster `durableWrite`: every key of the pipeline must hash to one slot (else
 * `DurableWriteCrossSlotError`, nothing sent); the pipeline and its `WAIT` go to that slot's master
 * in one write. When every write was refused by a redirect (a failover or resharding just moved the
 * slot: nothing applied), the slot map is reloaded and the pipeline built and sent again (3 times at most).
 */
async function clusterWriteThenWait(
  cluster: Cluster,
  counts: DurableWriteCounts | undefined,
  build: (pipeline: ChainableCommander) => ChainableCommander,
  replicas: number,
  timeoutMs: number,
): Promise<unknown[]> {
  for (let attempt = 1; ; attempt++) {
    const pipeline = build(cluster.pipeline());
    const writes = pipeline.length;
    if (writes === 0) throw new TypeError('durableWrite: the pipeline has no command');
    const slots = new Set<number>();
    for (const command of pipelineCommands(pipeline)) {
      for (const key of command.getKeys()) slots.add(clusterKeySlot(key));
    }
    if (slots.size !== 1) {
      if (counts) counts.refused++;
      throw new DurableWriteCrossSlotError([...slots].toSorted((a, b) => a - b));
    }
    const slot = [...slots][0]!;
    pipeline.call('WAIT', replicas, timeoutMs);
    const before = slotConnection(cluster, slot);
    const replies = await pipeline.exec();
    const after = slotConnection(cluster, slot);
    if (!replies) throw new Error('durableWrite: the pipeline was discarded');
    const writeReplies = replies.slice(0, writes);
    if (attempt < CLUSTER_ATTEMPTS && writeReplies.every(([err]) => err && REFUSED.test(err.message))) {
      await withDeadline(refreshSlots(cluster), timeoutMs, 'slot refresh').catch(() => undefined);
      continue;
    }
    const changed = !before.node || before.node !== after.node || before.epoch !== after.epoch;
    return confirmedResults(replies, writes, replicas, timeoutMs, changed);
  }
}

/** Cluster `durableCall`: `write()`, then `WAIT` on the connection to the master of `key`'s slot, unchanged since before the write. */
async function clusterCallThenWait<T>(
  cluster: Cluster,
  write: () => Promise<T>,
  key: string | Buffer,
  replicas: number,
  timeoutMs: number,
): Promise<T> {
  const slot = clusterKeySlot(key);
  const before = slotConnection(cluster, slot);
  const result = await write();
  const after = slotConnection(cluster, slot);
  if (!after.node || before.node !== after.node || before.epoch !== after.epoch) {
    throw connectionChanged(replicas, timeoutMs, [result]);
  }
  let acked: unknown;
  try {
    acked = await after.node.call('WAIT', replicas, timeoutMs);
  } catch (err) {
    throw waitFailed(replicas, timeoutMs, [result], err as Error);
  }
  if (connectionEpoch(after.node) !== after.epoch) throw connectionChanged(replicas, timeoutMs, [result]);
  if (Number(acked) < replicas) throw new DurableWriteError(replicas, Number(acked), timeoutMs, [result]);
  return result;
}
