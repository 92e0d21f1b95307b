import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { KeyvStoreAdapter, StoredData } from 'keyv';

/** Options of `RedisKeyvStore`. */
export interface RedisKeyvStoreOptions {
  /**
   * Client for reads (`get`, `getMany`, `has`). Default: the write client. A `replica` client of the
   * module spreads reads over the replicas; it may answer a value a few milliseconds stale, which
   * a cache accepts.
   */
  readonly readClient?: Redis;
  /** Keys per `SCAN` step of `clear()`. Default 500: bounded work per round trip. */
  readonly clearBatchSize?: number;
}

/**
 * A Keyv store on a module client, for `@nestjs/cache-manager` (cache-manager 7 runs on Keyv):
 * `new Keyv({ store: new RedisKeyvStore(redis), namespace: 'app' })`. `@keyv/redis` speaks only
 * node-redis, so it cannot use the module's failover-following ioredis clients; this store can.
 * Keyv prefixes keys with its namespace; `clear()` deletes that namespace only. The module owns
 * the clients: `disconnect()` leaves them open.
 */
export class RedisKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  /** Keyv reads `opts` for its own bookkeeping. */
  readonly opts: { dialect: 'redis' };
  /** Set by Keyv (`namespace` option, default `keyv`). */
  namespace: string | undefined;
  readonly #client: Redis;
  readonly #reader: Redis;
  readonly #clearBatchSize: number;

  constructor(client: Redis, options: RedisKeyvStoreOptions = {}) {
    super();
    this.opts = { dialect: 'redis' };
    this.#client = client;
    this.#reader = options.readClient ?? client;
    this.#clearBatchSize = options.clearBatchSize ?? 500;
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return ((await this.#reader.get(key)) ?? undefined) as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    if (keys.length === 0) return [];
    const values = await this.#reader.mget(keys);
    return values.map((value) => (value ?? undefined) as StoredData<Value | undefined>);
  }

  async has(key: string): Promise<boolean> {
    return (await this.#reader.exists(key)) === 1;
  }

  /** `ttl` in milliseconds, as Keyv passes it; none or 0 keeps the key until deleted. */
  async set(key: string, value: unknown, ttl?: number): Promise<void> {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (typeof ttl === 'number' && ttl > 0) await this.#client.set(key, text, 'PX', Math.ceil(ttl));
    else await this.#client.set(key, text);
  }

  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    await Promise.all(entries.map((entry) => this.set(entry.key, entry.value, entry.ttl)));
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#client.unlink(key)) > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    if (keys.length === 0) return false;
    return (await this.#client.unlink(...keys)) > 0;
  }

  /** Deletes the keys of this namespace, `SCAN` step by step (never `FLUSHDB`, never `KEYS`). */
  async clear(): Promise<void> {
    if (!this.namespace) {
      throw new Error(
        'RedisKeyvStore.clear(): no namespace, so it would delete every key of the database; give Keyv a namespace (e.g. new Keyv({ store, namespace: "cache" }))',
      );
    }
    const match = `${this.namespace.replace(/[*?[\]\\]/g, '\\$&')}:*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.#client.scan(cursor, 'MATCH', match, 'COUNT', this.#clearBatchSize);
      if (keys.length > 0) await this.#client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  /** The module closes its clients at shutdown; Keyv's disconnect leaves them to it. */
  async disconnect(): Promise<void> {}
}
