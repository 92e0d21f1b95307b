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

// One round trip, atomic, with the semantics of the throttler's in-memory storage: hits count in a
// fixed window; over the limit the key is blocked for blockDuration, uncounted, and its count starts
// again from zero once the block ends.
const INCREMENT_SCRIPT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {tonumber(ARGV[2]) + 1, blocked, blocked}
end
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return {hits, ttl, tonumber(ARGV[3])}
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
        Math.max(1, Math.ceil(blockDuration)),
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
