import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisTopology } from '@bastion/redis-topology';

describe('RedisTopology harness (real redis-server processes)', () => {
  let topo: RedisTopology;

  beforeAll(async () => {
    topo = await RedisTopology.start({ password: 'harness-pw', sentinelPassword: 'sentinel-pw' });
  });
  afterAll(async () => {
    await topo?.teardown();
  });

  it('starts 1 master, 2 synced replicas and 3 Sentinels on loopback ports other than 6379', async () => {
    expect(topo.replicas).toHaveLength(2);
    expect(topo.sentinels).toHaveLength(3);
    for (const node of topo.nodes) expect(node.port).not.toBe(6379);
    expect(await topo.role(topo.master)).toBe('master');
    for (const r of topo.replicas) expect(await topo.role(r)).toBe('slave');
    await topo.command(topo.master, 'SET', 'harness-key', 'v1');
    await topo.command(topo.master, 'WAIT', 2, 2000);
    for (const r of topo.replicas) expect(await topo.command(r, 'GET', 'harness-key')).toBe('v1');
    expect(await topo.currentMasterPort()).toBe(topo.master.port);
  });

  it('SIGKILL of the master makes the Sentinels promote a replica that kept the data', async () => {
    const oldPort = topo.master.port;
    await topo.kill(topo.master);
    const newPort = await topo.waitForNewMaster(oldPort);
    const promoted = topo.nodeByPort(newPort);
    expect(promoted.role).toBe('replica');
    expect(await topo.role(promoted)).toBe('master');
    expect(await topo.command(promoted, 'GET', 'harness-key')).toBe('v1');
  });

  it('tears down every process it started', async () => {
    const children = topo.nodes.map((n) => n.process).filter((c) => c !== undefined);
    await topo.teardown();
    for (const child of children) expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
  });
});
