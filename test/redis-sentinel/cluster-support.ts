/** Helpers shared by the cluster-*.spec.ts files (not a spec file itself). */
import { Test, type TestingModule } from '@nestjs/testing';
import type { Cluster } from 'ioredis';
import {
  RedisClusterClientsService,
  RedisClusterModule,
  type RedisClusterModuleExtras,
  type RedisClusterModuleOptions,
} from '@bastion/redis-sentinel';
import { slotOwners, type RedisCluster, type RedisClusterNode } from '@bastion/redis-topology';

export const CLUSTER_PASSWORD = 'cluster-secret-pw';

export function clusterOptions(
  cluster: RedisCluster,
  extra: RedisClusterModuleOptions = {},
): RedisClusterModuleOptions {
  return { nodes: cluster.seedNodes, password: CLUSTER_PASSWORD, ...extra };
}

/** Compiles and initialises a module with the Cluster module; `close()` runs the shutdown hooks. */
export async function startClusterModule(
  options: RedisClusterModuleOptions,
  extras: RedisClusterModuleExtras = {},
): Promise<{ moduleRef: TestingModule; clients: RedisClusterClientsService }> {
  const moduleRef = await Test.createTestingModule({
    imports: [RedisClusterModule.forRoot({ ...options, ...extras })],
  }).compile();
  await moduleRef.init();
  return { moduleRef, clients: moduleRef.get(RedisClusterClientsService) };
}

/** `perMaster` keys per master (masters in slot order): `prefix` + a counter. */
export async function keysPerMaster(
  cluster: RedisCluster,
  prefix: string,
  perMaster: number,
): Promise<Array<{ key: string; master: RedisClusterNode }>> {
  const masters = await cluster.masters();
  const owners = slotOwners(await cluster.view(masters[0]!));
  const found = new Map<RedisClusterNode, string[]>(masters.map((m) => [m, []]));
  for (let i = 0; [...found.values()].some((keys) => keys.length < perMaster) && i < 10_000; i++) {
    const key = `${prefix}${i}`;
    const keys = found.get(cluster.nodeById(owners[cluster.slotOf(key)]!))!;
    if (keys.length < perMaster) keys.push(key);
  }
  return masters.flatMap((master) => found.get(master)!.map((key) => ({ key, master })));
}

/** One key per master (in slot order). */
export function keyPerMaster(
  cluster: RedisCluster,
  prefix: string,
): Promise<Array<{ key: string; master: RedisClusterNode }>> {
  return keysPerMaster(cluster, prefix, 1);
}

/** What one writer of `startIncrLoad` saw. */
export interface IncrWriter {
  readonly key: string;
  readonly master: RedisClusterNode;
  /** INCRs that answered. */
  acked: number;
  /** INCRs that failed: each may or may not have been applied (never resent). */
  failed: number;
  /** When each acknowledged INCR answered (Date.now()). */
  readonly ackTimes: number[];
  readonly failures: Array<{ at: number; ms: number; message: string }>;
}

/**
 * One writer per key: INCR in a loop (5 ms apart) until `stop()`. Comparing the final value with
 * `acked` and `failed` tells whether a command was applied twice: never more than acked + failed.
 */
export function startIncrLoad(
  redis: Cluster,
  keys: ReadonlyArray<{ key: string; master: RedisClusterNode }>,
): { writers: IncrWriter[]; stop: () => Promise<void> } {
  const state = { running: true };
  const writers: IncrWriter[] = keys.map(({ key, master }) => ({
    key,
    master,
    acked: 0,
    failed: 0,
    ackTimes: [],
    failures: [],
  }));
  const loops = writers.map(async (writer) => {
    while (state.running) {
      const started = Date.now();
      try {
        await redis.incr(writer.key);
        writer.acked++;
        writer.ackTimes.push(Date.now());
      } catch (err) {
        writer.failed++;
        writer.failures.push({ at: started, ms: Date.now() - started, message: (err as Error).message });
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  return {
    writers,
    stop: async () => {
      state.running = false;
      await Promise.all(loops);
    },
  };
}

export { sleep } from '../support/sleep.js';
