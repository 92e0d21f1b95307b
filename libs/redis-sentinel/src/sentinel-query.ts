import { Redis, type RedisOptions } from 'ioredis';
import { abandonConnection } from './ioredis-internals.js';
import { withDeadline } from './timing.js';
import { formatAddress, type RedisAddress } from './redis-address.js';
import type { RedisNatMap } from './redis-sentinel-options.interface.js';
import type { ResolvedRedisSentinelOptions } from './redis-sentinel-options.resolver.js';

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
  // ioredis reports why a connection failed (ECONNREFUSED, WRONGPASS) only as an event, then
  // rejects with a bare "Connection is closed.": keep the first one to report it instead.
  let connectionError: Error | undefined;
  client.on('error', (err: Error) => {
    connectionError ??= redactCommand(err);
  });
  try {
    return await withDeadline(
      client.connect().then(
        () => fn(client),
        (err: unknown) => {
          throw connectionError ?? err;
        },
      ),
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

/** `SENTINEL GET-MASTER-ADDR-BY-NAME` on a short-lived connection, natMap applied. */
export async function askMasterAddress(
  sentinel: RedisAddress,
  options: ResolvedRedisSentinelOptions,
  timeoutMs: number,
): Promise<RedisAddress> {
  return querySentinel(sentinel, options, timeoutMs, (c) => readMasterAddress(c, sentinel, options));
}

/** `SENTINEL GET-MASTER-ADDR-BY-NAME` on a connection the caller holds, natMap applied. */
export async function readMasterAddress(
  client: Redis,
  sentinel: RedisAddress,
  options: ResolvedRedisSentinelOptions,
): Promise<RedisAddress> {
  const reply = await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', options.masterName);
  if (!Array.isArray(reply) || reply.length < 2)
    throw await unknownMaster(client, sentinel, options.masterName);
  return applyNatMap({ host: String(reply[0]), port: Number(reply[1]) }, options.natMap);
}

/** Healthy replicas that a Sentinel lists (not down, not disconnected, link up), natMap applied. */
export async function askHealthyReplicas(
  sentinel: RedisAddress,
  options: ResolvedRedisSentinelOptions,
  timeoutMs: number,
): Promise<RedisAddress[]> {
  const reply = (await querySentinel(sentinel, options, timeoutMs, (c) =>
    c.call('SENTINEL', 'REPLICAS', options.masterName).catch(async (err: Error) => {
      throw err.message.startsWith('ERR No such master')
        ? await unknownMaster(c, sentinel, options.masterName)
        : err;
    }),
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

/**
 * A Sentinel answered that it monitors no master named `masterName`. Carries the names it does
 * monitor (`SENTINEL MASTERS`), or why it would not list them (e.g. an ACL without that command).
 */
export class UnknownMasterError extends Error {
  override readonly name = 'UnknownMasterError';
  constructor(
    readonly sentinel: string,
    readonly masterName: string,
    readonly knownMasters: readonly string[] | undefined,
    readonly listError: string | undefined,
  ) {
    super(`Sentinel ${sentinel} monitors no master named "${masterName}"`);
  }
}

async function unknownMaster(client: Redis, sentinel: RedisAddress, masterName: string): Promise<Error> {
  let known: string[] | undefined;
  let listError: string | undefined;
  try {
    const masters = (await client.call('SENTINEL', 'MASTERS')) as unknown[];
    known = masters.flatMap((flat) => toRecord(flat as unknown[]).name ?? []);
  } catch (err) {
    listError = (err as Error).message;
  }
  return new UnknownMasterError(formatAddress(sentinel)!, masterName, known, listError);
}

/** ioredis attaches the failed command to an error: for the handshake that is AUTH with the password. */
export function redactCommand(err: Error): Error {
  const command = (err as { command?: { args?: unknown[] } }).command;
  if (Array.isArray(command?.args)) command.args = command.args.map(() => '[redacted]');
  return err;
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
