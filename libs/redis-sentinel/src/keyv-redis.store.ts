import { EventEmitter } from 'node:events';
import type { Cluster, Redis } from 'ioredis';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { isCluster } from './cluster-client.check.js';
import { keysBySlot } from './cluster-key-slot.js';

/** Options of `RedisKeyvStore`. */
export interface RedisKeyvStoreOptions {
  /**
   * Client for reads (`get`, `getMany`, `has`). Default: the write client. A `replica` client of the
   * module (Sentinel or Cluster) spreads reads over the replicas; it may answer a value a few
   * milliseconds stale, which a cache accepts.
   */
  readonly readClient?: Redis | Cluster;
  /** Keys per `SCAN` step of `clear()`. Default 500: bounded work per round trip. */
  readonly clearBatchSize?: number;
}

/**
 * A Keyv store on a module client, for `@nestjs/cache-manager` (cache-manager 7 runs on Keyv):
 * `new Keyv({ store: new RedisKeyvStore(redis), namespace: 'app' })`. `@keyv/redis` speaks only
 * node-redis, so it cannot use the module's failover-following ioredis clients; this store can.
 * Keyv prefixes keys with its namespace; `clear()` deletes that namespace only. The module owns
 * the clients: `disconnect()` leaves them open.
 *
 * On a Redis Cluster client the keys of one call may live on several shards: `getMany` and
 * `deleteMany` send one command per hash slot (in parallel), `clear()` scans every master.
 */
export class RedisKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  /** Keyv reads `opts` for its own bookkeeping. */
  readonly opts: { dialect: 'redis' };
  /** Set by Keyv (`namespace` option, default `keyv`). */
  namespace: string | undefined;
  readonly #client: Redis | Cluster;
  readonly #reader: Redis | Cluster;
  readonly #clearBatchSize: number;

  constructor(client: Redis | Cluster, options: RedisKeyvStoreOptions = {}) {
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
    const values: Array<StoredData<Value | undefined>> = Array.from({ length: keys.length });
    await Promise.all(
      commandGroups(this.#reader, keys).map(async (group) => {
        const found = await this.#reader.mget(group.map((i) => keys[i]!));
        group.forEach((i, j) => (values[i] = (found[j] ?? undefined) as StoredData<Value | undefined>));
      }),
    );
    return values;
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
    return (await this.#unlink(keys)) > 0;
  }

  /**
   * Deletes the keys of this namespace, `SCAN` step by step (never `FLUSHDB`, never `KEYS`); on a
   * Cluster, on every master (a key lives on one master only), the deletes routed by slot.
   */
  async clear(): Promise<void> {
    if (!this.namespace) {
      throw new Error(
        'RedisKeyvStore.clear(): no namespace, so it would delete every key of the database; give Keyv a namespace (e.g. new Keyv({ store, namespace: "cache" }))',
      );
    }
    const match = `${this.namespace.replace(/[*?[\]\\]/g, '\\$&')}:*`;
    await Promise.all(
      (await scanTargets(this.#client)).map(async (node) => {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', this.#clearBatchSize);
          await this.#unlink(keys);
          cursor = next;
        } while (cursor !== '0');
      }),
    );
  }

  /** The module closes its clients at shutdown; Keyv's disconnect leaves them to it. */
  async disconnect(): Promise<void> {}

  /** `UNLINK` of `keys` (one command per slot on a Cluster); how many existed. */
  async #unlink(keys: string[]): Promise<number> {
    const counts = await Promise.all(
      commandGroups(this.#client, keys).map((group) => this.#client.unlink(...group.map((i) => keys[i]!))),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }
}

/**
 * Indexes of `keys` grouped into commands: one for a Redis client; one per hash slot for a Cluster,
 * which refuses a multi-key command across slots (CROSSSLOT). No keys, no command.
 */
function commandGroups(client: Redis | Cluster, keys: readonly string[]): number[][] {
  if (keys.length === 0) return [];
  return isCluster(client) ? keysBySlot(keys) : [keys.map((_, i) => i)];
}

/** Where a `SCAN` must run to see every key: the client, or each master of a Cluster. */
async function scanTargets(client: Redis | Cluster): Promise<Redis[]> {
  if (!isCluster(client)) return [client];
  // Not ready (connecting, or reconnecting after losing every node): its node list is empty or
  // stale. A routed command waits for it within the command deadline, or fails as any command does.
  if (client.status !== 'ready') await client.ping();
  return client.nodes('master');
}
