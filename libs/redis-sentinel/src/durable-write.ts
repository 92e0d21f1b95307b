import type { ChainableCommander, Redis } from 'ioredis';
import { connectionEpoch } from './ioredis-internals.js';
import { managedClientOf, type ManagedRedisClient } from './managed-redis-client.js';
import { DurableWriteError } from './redis-sentinel.errors.js';

/** Options of `durableWrite()`. */
export interface DurableWriteOptions {
  /** Replicas that must acknowledge. Default 1: survives the loss of the master. */
  replicas?: number;
  /**
   * `WAIT` deadline. Default 500. Keep it below the client's `commandTimeoutMs` (default 2000),
   * which bounds the whole pipeline.
   */
  timeoutMs?: number;
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
  client: Redis,
  build: (pipeline: ChainableCommander) => ChainableCommander,
  options: DurableWriteOptions = {},
): Promise<unknown[]> {
  const { replicas, timeoutMs } = resolveDurableOptions('durableWrite', options);
  const managed = refuseDuringFailover(client, replicas, timeoutMs);
  return countOutcome(managed, writeThenWait(client, managed, build, replicas, timeoutMs));
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
  const results: unknown[] = [];
  for (let i = 0; i < writes; i++) {
    const [err, value] = replies[i]!;
    if (err) throw err;
    results.push(value);
  }
  const [waitErr, acked] = replies[writes]!;
  if (waitErr)
    throw new DurableWriteError(
      replicas,
      0,
      timeoutMs,
      results,
      `Durable write: WAIT failed: ${waitErr.message}`,
    );
  if (epochAfter !== epochBefore || failoverMayHaveRun(managed, generationBefore)) {
    throw connectionChanged(replicas, timeoutMs, results);
  }
  if (Number(acked) < replicas) throw new DurableWriteError(replicas, Number(acked), timeoutMs, results);
  return results;
}

/**
 * `durableWrite` for a write that another library sends on `client` (BullMQ's `queue.add()`, a
 * store's `set`): awaits `write()`, then sends `WAIT` on the same connection and checks that no
 * reconnect or failover came in between, so WAIT counted that write. Returns `write()`'s result;
 * throws `DurableWriteError` (with that result in `results`) when replication is not confirmed.
 */
export async function durableCall<T>(
  client: Redis,
  write: () => Promise<T>,
  options: DurableWriteOptions = {},
): Promise<T> {
  const { replicas, timeoutMs } = resolveDurableOptions('durableCall', options);
  const managed = refuseDuringFailover(client, replicas, timeoutMs);
  return countOutcome(managed, callThenWait(client, managed, write, replicas, timeoutMs));
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
    throw new DurableWriteError(
      replicas,
      0,
      timeoutMs,
      [result],
      `Durable write: WAIT failed: ${(err as Error).message}`,
    );
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
async function countOutcome<T>(managed: ManagedRedisClient | undefined, run: Promise<T>): Promise<T> {
  if (!managed) return run;
  try {
    const result = await run;
    managed.durableWrites.confirmed++;
    return result;
  } catch (err) {
    if (err instanceof DurableWriteError) managed.durableWrites.unconfirmed++;
    throw err;
  }
}

/** A failover started or switched since `generationBefore`, or the watcher lost sight of them. */
function failoverMayHaveRun(managed: ManagedRedisClient | undefined, generationBefore: number): boolean {
  return !!managed && (managed.failover.generation !== generationBefore || !managed.failover.watched);
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
