import { Redis } from 'ioredis';
import { closeRedisBounded } from './bounded-close.js';
import { abandonConnection } from './ioredis-internals.js';
import { formatAddress, type RedisAddress } from './redis-address.js';
import type { ResolvedRedisSentinelOptions } from './redis-sentinel-options.resolver.js';
import { redactCommand, sentinelConnectionOptions } from './sentinel-query.js';
import { DeadlineExceededError, withDeadline } from './timing.js';

/** `CLIENT SETNAME` of the query connections, as the watcher's are `bastion:failover-watcher`. */
export const SENTINEL_QUERY_CONNECTION_NAME = 'bastion:sentinel-query';

interface QueryConnection {
  readonly client: Redis;
  /** Settles when the connection is ready; rejects with why it failed (the password redacted). */
  readonly ready: Promise<void>;
}

/**
 * One persistent connection per Sentinel for the health indicator's questions, instead of a new
 * authenticated connection per question (`querySentinel`). The watcher's connections cannot serve
 * here: they are in subscriber mode, where `SENTINEL` commands are refused.
 *
 * The rules of a short-lived query still hold for every call:
 * - a hard deadline: a call that misses it abandons its connection (socket destroyed, no FIN
 *   handshake), so a frozen or partitioned Sentinel costs at most the deadline, and the next call
 *   dials afresh;
 * - no retries: a connection that closes is forgotten (`retryStrategy` returns null), never
 *   redialled in the background, and the next call dials;
 * - no timers of its own; `close()` is bounded (QUIT raced against a deadline, then destroyed).
 *
 * The options (passwords) are in a `#private` field: `util.inspect` never shows them.
 */
export class SentinelQueryPool {
  readonly #options: ResolvedRedisSentinelOptions;
  readonly #connections = new Map<string, QueryConnection>();
  #closed = false;
  /** Connections dialled since start: one per Sentinel unless one failed or missed a deadline. */
  dials = 0;

  constructor(options: ResolvedRedisSentinelOptions) {
    this.#options = options;
  }

  /**
   * Runs `fn` on the persistent connection to `sentinel` (dialled if there is none), within
   * `timeoutMs` from now, connecting included. A reply error (e.g. an unknown master) keeps the
   * connection; a missed deadline or a closed connection drops it.
   */
  async query<T>(sentinel: RedisAddress, timeoutMs: number, fn: (client: Redis) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('Sentinel query connections are closed (the module shut down)');
    const label = formatAddress(sentinel)!;
    const connection = this.#connection(sentinel, label);
    try {
      return await withDeadline(
        connection.ready.then(() => fn(connection.client)),
        timeoutMs,
        `Sentinel ${label} did not answer within ${timeoutMs} ms`,
      );
    } catch (err) {
      if (err instanceof DeadlineExceededError || connection.client.status !== 'ready') {
        this.#drop(label, connection);
      }
      throw err;
    }
  }

  /** Quits every connection (bounded by `deadlineMs`); later queries are refused. */
  async close(deadlineMs: number): Promise<void> {
    this.#closed = true;
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(connections.map((c) => closeRedisBounded(c.client, deadlineMs)));
  }

  /** Open (or connecting) connections, for the tests and `stats()`-like debugging. */
  get size(): number {
    return this.#connections.size;
  }

  #connection(sentinel: RedisAddress, label: string): QueryConnection {
    const existing = this.#connections.get(label);
    if (existing && existing.client.status !== 'end' && existing.client.status !== 'close') return existing;
    if (existing) this.#drop(label, existing);
    this.dials++;
    const client = new Redis({
      ...sentinelConnectionOptions(sentinel, this.#options),
      connectionName: SENTINEL_QUERY_CONNECTION_NAME,
      // One attempt per connection: a closed one is forgotten and the next call dials. Each call's
      // deadline bounds it; no command timer is armed per command.
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      // While it connects, the calls queue behind `ready` below instead.
      enableOfflineQueue: false,
    });
    // ioredis reports why a connection failed (ECONNREFUSED, WRONGPASS) only as an event, then
    // rejects with a bare "Connection is closed.": keep the first one to report it instead.
    let connectionError: Error | undefined;
    client.on('error', (err: Error) => {
      connectionError ??= redactCommand(err);
    });
    const connection: QueryConnection = {
      client,
      ready: client.connect().catch((err: unknown) => {
        throw connectionError ?? err;
      }),
    };
    // A failed dial is reported to the calls waiting on it; this handler only marks it handled.
    connection.ready.catch(() => undefined);
    client.once('end', () => {
      if (this.#connections.get(label) === connection) this.#connections.delete(label);
    });
    this.#connections.set(label, connection);
    return connection;
  }

  #drop(label: string, connection: QueryConnection): void {
    if (this.#connections.get(label) === connection) this.#connections.delete(label);
    if (connection.client.status !== 'end') connection.client.disconnect();
    // disconnect() only ends the socket and arms a 2 s destroy timer: a frozen Sentinel would keep
    // both alive past the deadline.
    abandonConnection(connection.client);
  }
}
