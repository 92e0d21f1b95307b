import type { Redis } from 'ioredis';
import type { JobsOptions, Queue } from 'bullmq';
import { durableCall, type DurableWriteOptions } from './durable-write.js';
import { managedClientOf } from './managed-redis-client.js';

/**
 * `queue.add(name, data, jobOptions)`, confirmed by `WAIT` on the connection that wrote the job.
 * BullMQ acknowledges a job once the master has it; a failover in the next moments can lose it.
 * This resolves only once `replicas` replicas have it too, and throws `DurableWriteError`
 * otherwise (the job may or may not exist: retry with the same `jobId`, which BullMQ adds once).
 * The queue must run on a module client (`connection: redis`), which BullMQ shares as is.
 */
export async function durableEnqueue<Q extends Queue>(
  queue: Q,
  name: Parameters<Q['add']>[0],
  data: Parameters<Q['add']>[1],
  jobOptions?: JobsOptions,
  options?: DurableWriteOptions,
): Promise<Awaited<ReturnType<Q['add']>>> {
  const client = (queue.opts as { connection?: unknown }).connection as Redis | undefined;
  if (!client || typeof client !== 'object' || !managedClientOf(client)) {
    throw new TypeError(
      `durableEnqueue: queue "${queue.name}" does not run on a RedisSentinelModule client; create it with { connection: redis } where redis is @InjectRedis() (options would make BullMQ open its own connections, which WAIT cannot see)`,
    );
  }
  return durableCall(
    client,
    () => queue.add(name, data, jobOptions) as Promise<Awaited<ReturnType<Q['add']>>>,
    options,
  );
}
