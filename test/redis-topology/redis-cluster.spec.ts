import { existsSync, readFileSync } from 'node:fs';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import type { RedisClusterNode } from '@bastion/redis-topology';
import { useCluster } from '../support/use-cluster.js';

const PASSWORD = 'cluster-harness-pw';

/** Keys whose slots the server computes too: the spec's examples, hash-tag corner cases, random bytes. */
function keySlotCases(): Array<string | Buffer> {
  const keys: Array<string | Buffer> = [
    '',
    'foo',
    '123456789',
    '{user1000}.following',
    '{user1000}.followers',
    'foo{}{bar}',
    'foo{{bar}}zap',
    'foo{bar}{zap}',
    '{bar',
    'bar}',
    '{}',
    '}{',
    'é{ü}ß',
  ];
  let seed = 42;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
  for (let i = 0; i < 300; i++) {
    // Random bytes with many braces, so that tags of every shape come up.
    const bytes = Buffer.alloc(1 + (next() % 24));
    for (let j = 0; j < bytes.length; j++)
      bytes[j] = next() % 5 === 0 ? [0x7b, 0x7d][next() % 2]! : next() % 256;
    keys.push(bytes);
  }
  return keys;
}

function directClient(options: { host: string; port: number; password?: string }): Redis {
  const client = new Redis({
    ...options,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    commandTimeout: 5000,
  });
  client.on('error', () => undefined);
  return client;
}

describe('RedisCluster harness (real redis-server --cluster-enabled processes)', () => {
  const cluster = useCluster({ password: PASSWORD });

  it('starts 3 masters with one synced replica each: every node ok, all 16384 slots served', async () => {
    expect(cluster.nodes).toHaveLength(6);
    for (const node of cluster.nodes) {
      expect(node.port).not.toBe(6379);
      expect(node.busPort).toBe(node.port + 10_000);
      expect(node.busPort).toBeLessThan(65_536);
      expect(await cluster.clusterInfo(node)).toMatchObject({
        cluster_state: 'ok',
        cluster_slots_assigned: '16384',
        cluster_slots_ok: '16384',
        cluster_known_nodes: '6',
        cluster_size: '3',
      });
      // The password reaches the servers and redis-cli through files and the environment, never argv.
      expect(readFileSync(`/proc/${node.process!.pid}/cmdline`, 'utf8')).not.toContain(PASSWORD);
    }
    const masters = await cluster.masters();
    expect(masters).toHaveLength(3);
    const replicas: RedisClusterNode[] = [];
    for (const master of masters) {
      expect(await cluster.role(master)).toBe('master');
      const ofMaster = await cluster.replicasOf(master);
      expect(ofMaster).toHaveLength(1);
      const replication = await cluster.command(ofMaster[0]!, 'INFO', 'replication');
      expect(replication).toMatch(/role:slave/);
      expect(replication).toContain(`master_port:${master.port}`);
      expect(replication).toMatch(/master_link_status:up/);
      replicas.push(...ofMaster);
    }
    expect(new Set([...masters, ...replicas]).size).toBe(6);

    const anonymous = directClient({ host: '127.0.0.1', port: masters[0]!.port });
    try {
      await expect(anonymous.call('CLUSTER', 'INFO')).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
  });

  it('slotOf() matches CLUSTER KEYSLOT, hash tags included', async () => {
    const client = directClient(cluster.connectionOptions(cluster.nodes[0]!));
    try {
      const keys = keySlotCases();
      const pipeline = client.pipeline();
      for (const key of keys) pipeline.call('CLUSTER', 'KEYSLOT', key);
      const replies = (await pipeline.exec())!.map(([err, slot]) => {
        if (err) throw err;
        return slot;
      });
      expect(keys.map((key) => cluster.slotOf(key))).toEqual(replies);
    } finally {
      client.disconnect();
    }
    expect(cluster.slotOf('123456789')).toBe(0x31c3 % 16_384);
    expect(cluster.slotOf('{user1000}.following')).toBe(cluster.slotOf('{user1000}.followers'));
    expect(cluster.slotOf('{user1000}.following')).toBe(cluster.slotOf('user1000'));
  });

  it('masterForKey() names the master that takes a SET; every other master answers MOVED to it', async () => {
    const masters = await cluster.masters();
    const owners = new Set<RedisClusterNode>();
    for (let i = 0; owners.size < masters.length; i++) {
      expect(i).toBeLessThan(200);
      const key = `owner-probe-${i}`;
      const owner = await cluster.masterForKey(key);
      owners.add(owner);
      expect(await cluster.command(owner, 'SET', key, 'v')).toBe('OK');
      for (const other of masters.filter((m) => m !== owner)) {
        await expect(cluster.command(other, 'SET', key, 'v')).rejects.toThrow(
          `MOVED ${cluster.slotOf(key)} 127.0.0.1:${owner.port}`,
        );
      }
    }
  });

  it('manualFailover() swaps a master and its replica without losing a write', async () => {
    const master = await cluster.masterForKey('{manual}');
    const [replica] = await cluster.replicasOf(master);
    const keys = Array.from({ length: 200 }, (_, i) => `{manual}:${i}`);
    const writer = directClient(cluster.connectionOptions(master));
    try {
      // No WAIT: the default CLUSTER FAILOVER lets the replica catch up before it takes over.
      await writer.mset(Object.fromEntries(keys.map((k) => [k, k])));
    } finally {
      writer.disconnect();
    }

    await cluster.manualFailover(replica!);

    expect(await cluster.role(replica!)).toBe('master');
    await vi.waitFor(async () => expect(await cluster.role(master)).toBe('slave'), { timeout: 10_000 });
    await cluster.waitClusterOk();
    expect(await cluster.masterForKey('{manual}')).toBe(replica);
    expect(await cluster.replicasOf(replica!)).toEqual([master]);
    expect(await cluster.command(replica!, 'MGET', ...keys)).toEqual(keys);
  });

  it('migrateSlots() moves a slot with its keys while a cluster client keeps writing to it', async () => {
    const slot = cluster.slotOf('{migrate}');
    const from = await cluster.masterForKey('{migrate}');
    const to = (await cluster.masters()).find((m) => m !== from)!;
    const seeded = Array.from({ length: 300 }, (_, i) => `{migrate}:seed:${i}`);
    const seeder = directClient(cluster.connectionOptions(from));
    try {
      await seeder.mset(Object.fromEntries(seeded.map((k) => [k, k])));
    } finally {
      seeder.disconnect();
    }

    const client = new Cluster(cluster.seedNodes, {
      redisOptions: { password: PASSWORD, commandTimeout: 5000 },
      maxRedirections: 32,
    });
    client.on('error', () => undefined);
    const acknowledged: string[] = [];
    const failures: unknown[] = [];
    const state = { migrating: true, started: false };
    let writesDuringMigration = 0;
    const load = (async () => {
      for (let i = 0; state.migrating; i++) {
        const key = `{migrate}:load:${i}`;
        try {
          await client.set(key, key);
          acknowledged.push(key);
          if (state.started) writesDuringMigration++;
        } catch (err) {
          failures.push(err);
        }
      }
    })();
    try {
      await vi.waitFor(() => expect(acknowledged.length).toBeGreaterThan(10), { timeout: 10_000 });
      state.started = true;
      await cluster.migrateSlots(from, to, [slot], { keysPerBatch: 10 });
      state.migrating = false;
      await load;
    } finally {
      state.migrating = false;
      await load;
      client.disconnect();
    }

    expect(failures).toEqual([]);
    expect(writesDuringMigration).toBeGreaterThan(0);
    expect(await cluster.masterForKey('{migrate}', from)).toBe(to);
    expect(await cluster.command(to, 'CLUSTER', 'COUNTKEYSINSLOT', slot)).toBe(
      seeded.length + acknowledged.length,
    );
    expect(await cluster.command(from, 'CLUSTER', 'COUNTKEYSINSLOT', slot)).toBe(0);
    const all = [...seeded, ...acknowledged];
    expect(await cluster.command(to, 'MGET', ...all)).toEqual(all);
    await expect(cluster.command(from, 'GET', seeded[0]!)).rejects.toThrow(
      `MOVED ${slot} 127.0.0.1:${to.port}`,
    );
    await cluster.waitClusterOk();
  });

  it('SIGKILL of a master: its replica is promoted within seconds, with every WAITed write, and the cluster is ok again', async () => {
    const victim = await cluster.masterForKey('{kill}');
    const [replica] = await cluster.replicasOf(victim);
    const keys = Array.from({ length: 100 }, (_, i) => `{kill}:${i}`);
    const writer = directClient(cluster.connectionOptions(victim));
    try {
      await writer.mset(Object.fromEntries(keys.map((k) => [k, k])));
      expect(await writer.call('WAIT', 1, 2000)).toBe(1);
    } finally {
      writer.disconnect();
    }

    const killedAt = performance.now();
    await cluster.kill(victim);
    const promoted = await cluster.waitForPromotion(victim, 15_000);
    const promotionMs = Math.round(performance.now() - killedAt);
    await cluster.waitClusterOk(15_000);
    console.log(
      `[cluster] SIGKILL -> all nodes agree on the new master in ${promotionMs} ms (cluster-node-timeout 1000)`,
    );

    expect(promoted).toBe(replica);
    expect(await cluster.role(promoted)).toBe('master');
    expect(await cluster.masterForKey('{kill}')).toBe(promoted);
    expect(await cluster.masters()).not.toContain(victim);
    expect(await cluster.masters()).toHaveLength(3);
    for (const node of cluster.reachableNodes()) {
      expect(await cluster.clusterInfo(node)).toMatchObject({
        cluster_state: 'ok',
        cluster_slots_ok: '16384',
      });
    }
    expect(await cluster.command(promoted, 'MGET', ...keys)).toEqual(keys);

    // restart(): same port, same nodes.conf: it rejoins as itself, now a replica of its successor.
    await cluster.restart(victim);
    await cluster.waitClusterOk();
    expect(await cluster.role(victim)).toBe('slave');
    expect(await cluster.replicasOf(promoted)).toEqual([victim]);
  });

  it('a frozen master is replaced too; once thawed it rejoins as a replica', async () => {
    const victim = await cluster.masterForKey('{freeze}');
    const [replica] = await cluster.replicasOf(victim);
    cluster.freeze(victim);
    try {
      expect(cluster.reachableNodes()).not.toContain(victim);
      expect(await cluster.waitForPromotion(victim, 15_000)).toBe(replica);
    } finally {
      cluster.thaw(victim);
    }
    await cluster.waitClusterOk();
    expect(await cluster.role(victim)).toBe('slave');
    expect(await cluster.replicasOf(replica!)).toEqual([victim]);
  });

  it('teardown() kills every process it started, frozen ones included, and removes its temp dir', async () => {
    const pids = cluster.nodes.map((n) => n.process?.pid).filter((pid) => pid !== undefined);
    expect(pids).toHaveLength(6);
    for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow();
    cluster.freeze(cluster.nodes[0]!);

    await cluster.teardown();

    for (const pid of pids)
      expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    if (!process.env.KEEP_REDIS_LOGS) expect(existsSync(cluster.dir)).toBe(false);
  });
});
