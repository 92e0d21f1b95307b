import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { RedisSentinelHealthIndicator } from '@bastion/redis-sentinel';
import { RedisTopology } from '@bastion/redis-topology';
import { PASSWORD, SENTINEL_PASSWORD, sentinelOptions, startModule } from './support.js';

/** A TCP forwarder on a loopback port: stands in for a NAT/port mapping in front of a data node. */
async function forwarder(
  targetPort: number,
): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server, sockets };
}

describe('natMap (addresses announced by Sentinel are not reachable as such)', () => {
  let topo: RedisTopology;
  const forwarders: Array<Awaited<ReturnType<typeof forwarder>>> = [];

  beforeAll(async () => {
    topo = await RedisTopology.start({
      password: PASSWORD,
      sentinelPassword: SENTINEL_PASSWORD,
      replicas: 1,
    });
  });
  afterAll(async () => {
    for (const f of forwarders) {
      f.sockets.forEach((s) => s.destroy());
      f.server.close();
    }
    await topo?.teardown();
  });

  it('dials the mapped address, checks health against the mapped master, and maps +switch-master', async () => {
    const natMap: Record<string, { host: string; port: number }> = {};
    for (const node of topo.dataNodes) {
      const f = await forwarder(node.port);
      forwarders.push(f);
      natMap[`127.0.0.1:${node.port}`] = { host: '127.0.0.1', port: f.port };
    }
    const mapped = (port: number) => `127.0.0.1:${natMap[`127.0.0.1:${port}`]!.port}`;
    const app = await startModule(sentinelOptions(topo, { natMap }));
    try {
      const redis: Redis = app.clients.get();
      await redis.set('nat', '1');
      expect(app.clients.stats().clients[0]!.address).toBe(mapped(topo.master.port));
      const health = await app.moduleRef.get(RedisSentinelHealthIndicator).isHealthy('redis');
      expect(health.redis).toMatchObject({ status: 'up', masterAddress: mapped(topo.master.port) });

      const oldPort = topo.master.port;
      await topo.triggerFailover();
      const newPort = await topo.waitForNewMaster(oldPort);
      await vi.waitFor(
        () =>
          expect(
            app.clients.stats().clients[0]!.address === mapped(newPort),
            'client on the mapped new master',
          ).toBe(true),
        { timeout: 20_000, interval: 20 },
      );
      expect(app.clients.stats().currentMaster).toBe(mapped(newPort));
      await redis.set('nat', '2');
      expect(await topo.command(topo.nodeByPort(newPort), 'GET', 'nat')).toBe('2');
    } finally {
      await app.moduleRef.close();
    }
  });
});
