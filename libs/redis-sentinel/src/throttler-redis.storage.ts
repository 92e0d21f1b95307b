import { createHash } from 'node:crypto';
import { Command, type Cluster, type Redis } from 'ioredis';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { isCluster } from './cluster-client.check.js';

/** What `increment` answers (not exported by `@nestjs/throttler`'s entry). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Options of `RedisThrottlerStorage`. */
export interface RedisThrottlerStorageOptions {
  /**
   * What a request gets while no master answers. Default `'open'`: it passes uncounted, so a
   * Redis failover never takes the API down with it. `'closed'`: the storage throws the Redis
   * error, which `RedisUnavailableFilter` answers with 503 + `Retry-After` (choose it where
   * letting unlimited requests through is worse than refusing them, e.g. a login endpoint).
   */
  readonly failureMode?: 'open' | 'closed';
  /**
   * Deadline of one count. Default 500: the guard runs before every request, so a frozen master
   * may slow each request by this much at most (the module's 2 s command deadline would be 2 s).
   */
  readonly timeoutMs?: number;
  /**
   * Key prefix. Default `throttler:`. The keys are `<prefix>{<throttler>:<key>}:hits` and
   * `...:blocked`: the hash tag keeps a key's two entries on one Redis Cluster slot (the script
   * needs both) and spreads the trackers over the shards. A prefix with a `{...}` of its own would
   * put every key on one slot.
   */
  readonly keyPrefix?: string;
}

/** Counters of `RedisThrottlerStorage.stats()`. */
export interface RedisThrottlerStorageStats {
  /** Counts that Redis answered. */
  counted: number;
  /** Requests let through uncounted because Redis did not answer (`failureMode: 'open'`). */
  failedOpen: number;
  /** Requests refused because Redis did not answer (`failureMode: 'closed'`). */
  failedClosed: number;
}

// One round trip, atomic. Hits count in a fixed window per key (the throttler's in-memory storage
// expires each hit on its own; here up to twice the limit can pass across a window boundary, the
// usual trade of a fixed window for one key and O(1) work). Over the limit the key is blocked for
// blockDuration, uncounted, and counts from zero once the block ends; with blockDuration 0 a
// request over the limit is refused and the count goes on, as in the in-memory storage.
const INCREMENT_SCRIPT = `
local limit = tonumber(ARGV[2])
local blockMs = tonumber(ARGV[3])
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {limit + 1, blocked, blocked}
end
if blockMs == 0 then
  local current = tonumber(redis.call('GET', KEYS[1]) or '0')
  if current >= limit then
    local left = redis.call('PTTL', KEYS[1])
    return {current + 1, left, left}
  end
end
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if blockMs > 0 and hits > limit then
  redis.call('SET', KEYS[2], '1', 'PX', blockMs)
  redis.call('DEL', KEYS[1])
  return {hits, ttl, blockMs}
end
return {hits, ttl, 0}
`;

const INCREMENT_SCRIPT_SHA = createHash('sha1').update(INCREMENT_SCRIPT).digest('hex');

type CountingRedis = Redis & {
  bastionThrottlerIncrement(
    hitsKey: string,
    blockKey: string,
    ttlMs: number,
    limit: number,
    blockMs: number,
  ): Promise<[number, number, number]>;
};

/** One count: the script's two keys and three arguments in, `[hits, ttlLeftMs, blockLeftMs]` out. */
type Count = (keys: [string, string], args: [number, number, number]) => Promise<[number, number, number]>;

/**
 * Counts on a Sentinel-mode client: on a copy (`duplicate()`) with the short deadline, so they
 * follow failovers like the client and never wait the module's full command deadline.
 */
function countOnCopy(client: Redis, timeoutMs: number): Count {
  // A count that missed its deadline is given up, never queued for a later reconnect.
  const redis = client.duplicate({ commandTimeout: timeoutMs, maxRetriesPerRequest: 0 }) as CountingRedis;
  redis.defineCommand('bastionThrottlerIncrement', { numberOfKeys: 2, lua: INCREMENT_SCRIPT });
  // Connect now: the first request's count must not pay for finding the master.
  redis.connect().catch(() => undefined);
  return (keys, args) => redis.bastionThrottlerIncrement(...keys, ...args);
}

/**
 * Counts on a Cluster client itself, each with the deadline `timeoutMs` armed before the command
 * enters the client: the module's longer command deadline is then not armed (ioredis arms one
 * per command), and the module's `CLUSTERDOWN` retries stop at it. A count that missed it may
 * still be applied (it may have reached the node), as on a frozen Sentinel master. A copy of a
 * Cluster would open a connection to every node for this alone.
 */
function countOnCluster(cluster: Cluster, timeoutMs: number): Count {
  return async (keys, args) => {
    const deadline = Date.now() + timeoutMs;
    const send = (name: 'evalsha' | 'eval', script: string) => {
      // The ioredis `keyPrefix` applies, as it does to the client's own commands.
      const command = new Command(name, [script, 2, ...keys, ...args], {
        keyPrefix: cluster.options.keyPrefix,
      });
      command.setTimeout(Math.max(1, deadline - Date.now()));
      return cluster.sendCommand(command) as Promise<[number, number, number]>;
    };
    try {
      return await send('evalsha', INCREMENT_SCRIPT_SHA);
    } catch (err) {
      // Once per node: a promoted replica has not loaded the script (EVAL is replicated as effects).
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return await send('eval', INCREMENT_SCRIPT);
    }
  };
}

/**
 * `@nestjs/throttler` storage on a module client (`RedisSentinelModule` or `RedisClusterModule`):
 * `ThrottlerModule.forRootAsync({ inject: [getRedisToken()], useFactory: (redis) => ({ throttlers, storage: new RedisThrottlerStorage(redis) }) })`.
 * Each count has the short deadline `timeoutMs` and follows failovers like the client: on a
 * Sentinel client it runs on a copy (`duplicate()`), on a Cluster client on the client itself.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  readonly #count: Count;
  readonly #failureMode: 'open' | 'closed';
  readonly #keyPrefix: string;
  readonly #stats: RedisThrottlerStorageStats = { counted: 0, failedOpen: 0, failedClosed: 0 };

  constructor(client: Redis | Cluster, options: RedisThrottlerStorageOptions = {}) {
    const timeoutMs = options.timeoutMs ?? 500;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError(
        `RedisThrottlerStorage: timeoutMs must be a positive integer (got ${timeoutMs}), e.g. 500`,
      );
    }
    const failureMode = options.failureMode ?? 'open';
    if (failureMode !== 'open' && failureMode !== 'closed') {
      throw new TypeError(
        `RedisThrottlerStorage: failureMode must be "open" or "closed" (got ${JSON.stringify(failureMode)})`,
      );
    }
    this.#failureMode = failureMode;
    this.#keyPrefix = options.keyPrefix ?? 'throttler:';
    this.#count = isCluster(client) ? countOnCluster(client, timeoutMs) : countOnCopy(client, timeoutMs);
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const base = `${this.#keyPrefix}{${throttlerName}:${key}}`;
    const windowMs = Math.max(1, Math.ceil(ttl));
    try {
      const [hits, ttlLeft, blockLeft] = await this.#count(
        [`${base}:hits`, `${base}:blocked`],
        [windowMs, limit, Math.max(0, Math.ceil(blockDuration))],
      );
      this.#stats.counted++;
      return {
        totalHits: hits,
        timeToExpire: Math.ceil(Math.max(ttlLeft, 0) / 1000),
        isBlocked: blockLeft > 0,
        timeToBlockExpire: Math.ceil(Math.max(blockLeft, 0) / 1000),
      };
    } catch (err) {
      if (this.#failureMode === 'closed') {
        this.#stats.failedClosed++;
        throw err;
      }
      this.#stats.failedOpen++;
      return {
        totalHits: 0,
        timeToExpire: Math.ceil(windowMs / 1000),
        isBlocked: false,
        timeToBlockExpire: 0,
      };
    }
  }

  stats(): RedisThrottlerStorageStats {
    return { ...this.#stats };
  }
}
