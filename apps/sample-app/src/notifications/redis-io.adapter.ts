import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { getRedisToken } from '@bastion/redis-sentinel';
import { socketIoRedisClients, type SocketIoRedisClients } from '@bastion/redis-sentinel/socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { RedisClient } from '../common/redis-clients.js';
import type { Server, ServerOptions } from 'socket.io';

/**
 * Socket.IO with `@socket.io/redis-adapter`: a broadcast from any app instance reaches the clients
 * of every instance. The adapter's two connections are copies of the module's default client
 * (`socketIoRedisClients`), so they follow failovers, re-subscribe on the new master, and are
 * closed by the module at shutdown (after Nest closed the Socket.IO server). A broadcast that
 * could not be published (no master for `publishTimeoutMs`) is counted, never an unhandled rejection.
 *
 * In main.ts: `app.useWebSocketAdapter(adapter)` before `app.init()`, which creates the gateways'
 * server; then `await adapter.connectToRedis()` before `app.listen()`.
 */
export class RedisIoAdapter extends IoAdapter {
  private readonly servers = new Set<Server>();
  private clients: SocketIoRedisClients<RedisClient> | undefined;

  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, options) as Server;
    this.servers.add(server);
    if (this.clients) server.adapter(createAdapter(this.clients.pubClient, this.clients.subClient));
    return server;
  }

  /**
   * Gives the servers the Redis adapter once the module's clients are ready (after `app.init()`),
   * and waits (bounded) until its two connections are ready too, so the instance hears the others
   * from its first request on; `timeoutMs` 0 does not wait, as the module's startup timeout. A
   * subscription that fails meanwhile is made again by `socketIoRedisClients` once the connection
   * is up. Before `listen()`, no client is connected to the in-memory adapter this replaces.
   */
  async connectToRedis(timeoutMs = 10_000): Promise<SocketIoRedisClients<RedisClient>> {
    const clients = socketIoRedisClients(this.app.get<RedisClient>(getRedisToken()));
    if (timeoutMs > 0) {
      await Promise.all([whenReady(clients.pubClient, timeoutMs), whenReady(clients.subClient, timeoutMs)]);
    }
    this.clients = clients;
    for (const server of this.servers) server.adapter(createAdapter(clients.pubClient, clients.subClient));
    return clients;
  }
}

/** Resolves once `client` is ready (connecting it if it waits for a first command). */
async function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'wait') client.connect().catch(() => undefined);
  if (client.status === 'ready') return;
  let onReady!: () => void;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      client.once('ready', onReady);
      timer = setTimeout(
        () => reject(new Error(`Socket.IO's Redis connection not ready within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
  } finally {
    clearTimeout(timer);
    client.off('ready', onReady);
  }
}
