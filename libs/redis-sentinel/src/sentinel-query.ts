import { Redis, type RedisOptions } from 'ioredis';
import { abandonConnection } from './ioredis-internals.js';
import { withDeadline } from './backoff.js';
import { formatAddress, type RedisAddress } from './redis-address.js';
import type { RedisNatMap } from './redis-sentinel-options.interface.js';
import type { ResolvedRedisSentinelOptions } from './redis-sentinel-options.validator.js';

/** ioredis options for a connection to one Sentinel (auth, TLS, deadlines). */
export function sentinelConnectionOptions(
  sentinel: RedisAddress,
  options: ResolvedRedisSentinelOptions,
): RedisOptions {
  return {
    host: sentinel.host,
    port: sentinel.port,
    username: options.sentinelUsername,
    password: options.sentinelPassword,
    ...(options.sentinelTls ? { tls: { servername: sentinel.host, ...options.sentinelTls } } : {}),
    connectTimeout: Math.min(options.connectTimeoutMs, options.sentinelCommandTimeoutMs),
    // RESP2 keeps Sentinel replies as flat arrays on every server version.
    protocol: 2,
    enableReadyCheck: false,
    disableClientInfo: true,
    lazyConnect: true,
  };
}

/**
 * Runs `fn` on a short-lived connection to one Sentinel, with a hard deadline. The connection
 * never retries and is always closed, so a frozen or missing Sentinel costs at most `timeoutMs`.
 */
export async function querySentinel<T>(
  sentinel: RedisAddress,
  options: ResolvedRedisSentinelOptions,
  timeoutMs: number,
  fn: (client: Redis) => Promise<T>,
): Promise<T> {
  const client = new Redis({
    ...sentinelConnectionOptions(sentinel, options),
    connectTimeout: Math.max(1, Math.min(timeoutMs, options.connectTimeoutMs)),
    commandTimeout: Math.max(1, timeoutMs),
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => undefined);
  try {
    return await withDeadline(
      client.connect().then(() => fn(client)),
      timeoutMs,
      `Sentinel ${formatAddress(sentinel)} did not answer within ${timeoutMs} ms`,
    );
  } finally {
    client.disconnect();
    // disconnect() only ends the socket and arms a 2 s destroy timer: a frozen Sentinel would keep
    // both alive past this query's deadline.
    abandonConnection(client);
  }
}

/** `SENTINEL GET-MASTER-ADDR-BY-NAME`, natMap applied. */
export async function askMasterAddress(
  sentinel: RedisAddress,
  options: ResolvedRedisSentinelOptions,
  timeoutMs: number,
): Promise<RedisAddress> {
  const reply = await querySentinel(sentinel, options, timeoutMs, (c) =>
    c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', options.masterName),
  );
  if (!Array.isArray(reply) || reply.length < 2) {
    throw new Error(
      `Sentinel ${formatAddress(sentinel)} does not know a master named "${options.masterName}"`,
    );
  }
  return applyNatMap({ host: String(reply[0]), port: Number(reply[1]) }, options.natMap);
}

/** Healthy replicas that a Sentinel lists (not down, not disconnected, link up), natMap applied. */
export async function askHealthyReplicas(
  sentinel: RedisAddress,
  options: ResolvedRedisSentinelOptions,
  timeoutMs: number,
): Promise<RedisAddress[]> {
  const reply = (await querySentinel(sentinel, options, timeoutMs, (c) =>
    c.call('SENTINEL', 'REPLICAS', options.masterName),
  )) as unknown;
  if (!Array.isArray(reply)) return [];
  return reply
    .map((flat) => toRecord(flat as unknown[]))
    .filter(
      (r) =>
        r.ip &&
        r.port &&
        !/(s_down|o_down|disconnected)/.test(r.flags ?? '') &&
        (r['master-link-status'] ?? 'ok') === 'ok',
    )
    .map((r) => applyNatMap({ host: r.ip!, port: Number(r.port) }, options.natMap));
}

export function applyNatMap(address: RedisAddress, natMap: RedisNatMap | undefined): RedisAddress {
  if (!natMap) return address;
  const key = `${address.host}:${address.port}`;
  const mapped = typeof natMap === 'function' ? natMap(key) : natMap[key];
  return mapped ?? address;
}

function toRecord(flat: unknown[]): Record<string, string | undefined> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}
