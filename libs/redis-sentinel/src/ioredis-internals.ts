/**
 * The few ioredis 6.0 internals the module needs and that ioredis has no public API for.
 * Kept in one file so an ioredis upgrade has one place to check; the failover tests cover
 * each of them against a real Sentinel topology.
 */
import type { Command, Redis } from 'ioredis';

interface CommandItem {
  command: Command & { inTransaction?: boolean; pipelineIndex?: number };
}

interface RedisInternals {
  stream?: { destroyed: boolean; destroy(): void; remoteAddress?: string; remotePort?: number };
  reconnectTimeout: NodeJS.Timeout | null;
  prevCommandQueue: { length: number; shift(): CommandItem | undefined } | null;
  connectionEpoch: number;
  flushQueue(error: Error, options?: { offlineQueue?: boolean; commandQueue?: boolean }): void;
}

const internals = (redis: Redis): RedisInternals => redis as unknown as RedisInternals;

/**
 * Drops the current socket at once (no FIN handshake: a frozen peer would never answer).
 * ioredis sees `close` and runs its reconnect path.
 */
export function abandonConnection(redis: Redis): void {
  const stream = internals(redis).stream;
  if (stream && !stream.destroyed) stream.destroy();
}

/** While ioredis waits out a reconnect backoff, reconnect now instead. */
export function reconnectNow(redis: Redis): boolean {
  const r = internals(redis);
  if (redis.status !== 'reconnecting' || !r.reconnectTimeout) return false;
  clearTimeout(r.reconnectTimeout);
  r.reconnectTimeout = null;
  redis.connect().catch(() => undefined);
  return true;
}

/**
 * Commands that were in flight when the connection closed. With `autoResendUnfulfilledCommands`
 * off, ioredis would silently drop them (their promises would only end by `commandTimeout`); the
 * caller sends each again or rejects it (see `command-resend-policy.ts`).
 */
export function takeUnfulfilledCommands(redis: Redis): CommandItem[] {
  const r = internals(redis);
  const queue = r.prevCommandQueue;
  if (!queue) return [];
  const items: CommandItem[] = [];
  for (let item = queue.shift(); item; item = queue.shift()) items.push(item);
  r.prevCommandQueue = null;
  return items;
}

/** Rejects every queued (offline and in-flight) command with `error`. */
export function flushCommands(redis: Redis, error: Error, offlineOnly = false): void {
  internals(redis).flushQueue(error, { offlineQueue: true, commandQueue: !offlineOnly });
}

/** Increments on every connection attempt: tells whether two replies came over the same socket. */
export function connectionEpoch(redis: Redis): number {
  return internals(redis).connectionEpoch;
}

/** Address of the socket the client is connected to (after natMap, as dialled). */
export function remoteAddress(redis: Redis): { host: string; port: number } | undefined {
  const s = internals(redis).stream;
  if (!s || s.destroyed || !s.remoteAddress || !s.remotePort) return undefined;
  return { host: s.remoteAddress, port: s.remotePort };
}
