import type { Redis } from 'ioredis';
import type { ThrottlerStorage } from '@nestjs/throttler';

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
  /** Key prefix. Default `throttler:`. Each key holds a hash tag, so a Redis Cluster keeps a key's two entries on one slot. */
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

type CountingRedis = Redis & {
  bastionThrottlerIncrement(
    hitsKey: string,
    blockKey: string,
    ttlMs: number,
    limit: number,
    blockMs: number,
  ): Promise<[number, number, number]>;
};

/**
 * `@nestjs/throttler` storage on a module client:
 * `ThrottlerModule.forRootAsync({ inject: [getRedisToken()], useFactory: (redis) => ({ throttlers, storage: new RedisThrottlerStorage(redis) }) })`.
 * Counts run on a copy of the client (`duplicate()`) with the short deadline `timeoutMs`, so they
 * follow failovers like the client and never wait the module's full command deadline.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  readonly #redis: CountingRedis;
  readonly #failureMode: 'open' | 'closed';
  readonly #keyPrefix: string;
  readonly #stats: RedisThrottlerStorageStats = { counted: 0, failedOpen: 0, failedClosed: 0 };

  constructor(client: Redis, options: RedisThrottlerStorageOptions = {}) {
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
    // A count that missed its deadline is given up, never queued for a later reconnect.
    const redis = client.duplicate({ commandTimeout: timeoutMs, maxRetriesPerRequest: 0 });
    redis.defineCommand('bastionThrottlerIncrement', { numberOfKeys: 2, lua: INCREMENT_SCRIPT });
    this.#redis = redis as CountingRedis;
    // Connect now: the first request's count must not pay for finding the master.
    redis.connect().catch(() => undefined);
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
      const [hits, ttlLeft, blockLeft] = await this.#redis.bastionThrottlerIncrement(
        `${base}:hits`,
        `${base}:blocked`,
        windowMs,
        limit,
        Math.max(0, Math.ceil(blockDuration)),
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
