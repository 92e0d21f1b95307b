import { createServer } from 'node:net';

/** A free TCP port on loopback, picked by the kernel (never 6379 in practice: ephemeral range). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Whether `port` can be bound on loopback right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

const RESERVED = new Set([6379, 16379, 26379]);

/**
 * A free loopback port whose `port + offset` is free too: a Redis Cluster node listens for
 * clients on its port and for the cluster bus on port + 10000, so the port must stay below 55536.
 * Neither port is ever 6379, 16379 or 26379.
 */
export async function freePortWithOffset(offset = 10_000, attempts = 200): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const port = await freePort();
    const other = port + offset;
    if (other > 65_535 || RESERVED.has(port) || RESERVED.has(other)) continue;
    if (await isPortFree(other)) return port;
  }
  throw new Error(`no free loopback port p with p + ${offset} free after ${attempts} attempts`);
}
