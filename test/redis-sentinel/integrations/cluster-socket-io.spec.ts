/**
 * `socketIoRedisClients()` of a RedisClusterModule client against a real Redis Cluster: two
 * Socket.IO servers (two app instances) on the classic Redis adapter deliver each other's
 * broadcasts, and again after a SIGKILL of the master that carries a subscriber connection.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Cluster } from 'ioredis';
import type { RedisClusterClientsService } from '@bastion/redis-sentinel';
import { Server } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { socketIoRedisClients, type SocketIoRedisClients } from '@bastion/redis-sentinel/socket.io';
import { useCluster } from '../../support/use-cluster.js';
import { CLUSTER_PASSWORD, clusterOptions, startClusterModule } from '../cluster-support.js';

interface Instance {
  close(): Promise<void>;
  module: RedisClusterClientsService;
  io: Server;
  clients: SocketIoRedisClients<Cluster>;
  received: string[];
}

/** Emits `message` on `from` until `to`'s client has it (the adapters subscribe asynchronously). */
async function delivered(from: Instance, to: Instance, message: string): Promise<void> {
  await vi.waitFor(
    () => {
      from.io.emit('note', message);
      expect(to.received).toContain(message);
    },
    { timeout: 10_000, interval: 50 },
  );
}

describe('Socket.IO Redis adapter on socketIoRedisClients of a Cluster client', () => {
  const cluster = useCluster({ password: CLUSTER_PASSWORD });

  async function startInstance(): Promise<Instance> {
    const app = await startClusterModule(clusterOptions(cluster, { commandTimeoutMs: 3000 }));
    const clients = socketIoRedisClients(app.clients.get(), { publishTimeoutMs: 1000 });
    const http: HttpServer = createServer();
    const io = new Server(http);
    io.adapter(createAdapter(clients.pubClient, clients.subClient));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const socket: ClientSocket = connectClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
      transports: ['websocket'],
      forceNew: true,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const received: string[] = [];
    let closed = false;
    socket.on('note', (m: string) => received.push(m));
    return {
      io,
      module: app.clients,
      clients,
      received,
      close: async () => {
        if (closed) return;
        closed = true;
        socket.disconnect();
        await new Promise<void>((resolve) => void io.close(() => resolve()));
        await app.moduleRef.close();
      },
    };
  }

  it('delivers broadcasts both ways, and again after a SIGKILL failover of a subscriber node, with no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const a = await startInstance();
    const b = await startInstance();
    try {
      await delivered(a, b, 'a-before');
      await delivered(b, a, 'b-before');
      expect(a.clients.stats().published).toBeGreaterThan(0);
      // Both are the module's copies: the publisher without an offline queue and with its deadline.
      expect(a.module.stats().duplicates.map((d) => `${d.name} ${d.status}`)).toEqual([
        'default#1 ready',
        'default#2 ready',
      ]);
      expect(a.clients.pubClient.options).toMatchObject({
        enableOfflineQueue: false,
        redisOptions: { commandTimeout: 1000 },
      });

      // ioredis subscribes through one node: kill a master that carries a subscriber connection.
      let victim;
      for (const master of await cluster.masters()) {
        if ((await cluster.command(master, 'CLIENT', 'LIST')).includes('(subscriber)')) victim = master;
      }
      expect(victim, 'a master carries a subscriber connection').toBeDefined();
      await cluster.kill(victim!);
      await cluster.waitForPromotion(victim!);
      const promotedAt = Date.now();
      await delivered(a, b, 'a-after');
      await delivered(b, a, 'b-after');
      console.log(
        `[socket.io cluster kill] both ways delivered again ${Date.now() - promotedAt} ms after the promotion; ` +
          `stats a ${JSON.stringify(a.clients.stats())} b ${JSON.stringify(b.clients.stats())}`,
      );
      expect(unhandled).toEqual([]);
      // Closed by the module at shutdown.
      await b.close();
      expect([b.clients.pubClient.status, b.clients.subClient.status]).toEqual(['end', 'end']);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await a.close();
      await b.close();
    }
  });
});
