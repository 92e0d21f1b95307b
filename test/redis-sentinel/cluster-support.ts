/** Helpers shared by the cluster-*.spec.ts files (not a spec file itself). */
import { Test, type TestingModule } from '@nestjs/testing';
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

/** One key per master (in slot order): `prefix` + a counter until each master has one. */
export async function keyPerMaster(
  cluster: RedisCluster,
  prefix: string,
): Promise<Array<{ key: string; master: RedisClusterNode }>> {
  const masters = await cluster.masters();
  const owners = slotOwners(await cluster.view(masters[0]!));
  const found = new Map<RedisClusterNode, string>();
  for (let i = 0; found.size < masters.length && i < 10_000; i++) {
    const key = `${prefix}${i}`;
    const master = cluster.nodeById(owners[cluster.slotOf(key)]!);
    if (!found.has(master)) found.set(master, key);
  }
  return masters.map((master) => ({ key: found.get(master)!, master }));
}

export { sleep } from '../support/sleep.js';
