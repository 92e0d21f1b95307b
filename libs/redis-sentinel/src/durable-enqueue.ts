import type { Cluster, Redis } from 'ioredis';
import type { JobsOptions, Queue } from 'bullmq';
import { durableCall, type DurableWriteOptions } from './durable-write.js';
import { managedClientOf } from './managed-redis-client.js';
import { managedClusterOf } from './managed-redis-cluster.js';

/**
 * `queue.add(name, data, jobOptions)`, confirmed by `WAIT` on the connection that wrote the job.
 * BullMQ acknowledges a job once the master has it; a failover in the next moments can lose it.
 * This resolves only once `replicas` replicas have it too, and throws `DurableWriteError`
 * otherwise (the job may or may not exist: retry with the same `jobId`, which BullMQ adds once).
 * The queue must run on a module client (`connection: redis`), which BullMQ shares as is. On a
 * `RedisClusterModule` client, `WAIT` runs on the master of the queue's slot: its keys must
 * share one, through a hash tag in its prefix (`prefix: '{bull}'`), as BullMQ requires on a Cluster.
 */
export async function durableEnqueue<Q extends Queue>(
  queue: Q,
  name: Parameters<Q['add']>[0],
  data: Parameters<Q['add']>[1],
  jobOptions?: JobsOptions,
  options?: DurableWriteOptions,
): Promise<Awaited<ReturnType<Q['add']>>> {
  const client = (queue.opts as { connection?: unknown }).connection as Redis | Cluster | undefined;
  const managed =
    !!client &&
    typeof client === 'object' &&
    (managedClientOf(client as Redis) !== undefined || managedClusterOf(client as Cluster) !== undefined);
  if (!managed) {
    throw new TypeError(
      `durableEnqueue: queue "${queue.name}" does not run on a RedisSentinelModule client or a RedisClusterModule client; create it with { connection: redis } where redis is @InjectRedis() (options would make BullMQ open its own connections, which WAIT cannot see)`,
    );
  }
  const add = (): Promise<Awaited<ReturnType<Q['add']>>> =>
    queue.add(name, data, jobOptions) as Promise<Awaited<ReturnType<Q['add']>>>;
  if (!managedClusterOf(client as Cluster)) return durableCall(client, add, options);
  // BullMQ's scripts also touch keys outside the queue's own (`<prefix>:...`): only a tag in the
  // prefix puts all of them in one slot (a queue name in braces fails in its scripts).
  const prefix = (queue.opts as { prefix?: string }).prefix ?? 'bull';
  if (!hasHashTag(prefix)) {
    throw new TypeError(
      `durableEnqueue: queue "${queue.name}" runs on a Redis Cluster but its keys ("${queue.qualifiedName}:...") do not share one slot; set a hash-tag prefix, e.g. new Queue("${queue.name}", { connection, prefix: "{bull}" }) (the Worker and QueueEvents need the same prefix)`,
    );
  }
  // Every key of the queue is in that one slot: the job's hash, or the id counter when BullMQ
  // makes the id.
  const key = queue.toKey(jobOptions?.jobId ?? 'id');
  return durableCall(client, add, { ...options, key });
}

/**
 * Whether every key starting with `base` hashes by the same tag: Redis hashes only the part
 * between the first `{` and the first `}` after it, when that part is not empty.
 */
function hasHashTag(base: string): boolean {
  const open = base.indexOf('{');
  return open >= 0 && base.indexOf('}', open + 1) > open + 1;
}
