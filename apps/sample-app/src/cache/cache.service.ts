import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { AsyncLocalStorage } from 'node:async_hooks';

/** Keyv's namespace of this cache: its keys are `cache:<key>`. */
export const CACHE_NAMESPACE = 'cache';

/**
 * The cache through `@nestjs/cache-manager` (cache-manager 7 on a Keyv `RedisKeyvStore`, wired in
 * app.module.ts): writes go to the master, reads to a replica.
 *
 * cache-manager turns a store that failed a read into a miss (it reports the error only through
 * its `get` event). For this API a miss is a 404 "no such entry", which a Redis outage is not:
 * the error is picked up from the event for the read in progress and thrown, so that
 * RedisUnavailableFilter answers a retryable 503. An app that uses the cache in front of a
 * database would simply take the miss and read the database.
 */
@Injectable()
export class CacheService implements OnModuleInit, OnModuleDestroy {
  /** The read in progress in this async context, and the error its store reported. */
  private readonly reads = new AsyncLocalStorage<{ error?: unknown }>();
  private readonly onGet = ({ error }: { error?: unknown }): void => {
    const read = this.reads.getStore();
    if (read && error !== undefined) read.error ??= error;
  };

  constructor(@Inject(CACHE_MANAGER) private readonly cache: Cache) {}

  onModuleInit(): void {
    this.cache.on('get', this.onGet);
  }

  onModuleDestroy(): void {
    this.cache.off('get', this.onGet);
  }

  /** `ttlSeconds` absent: kept until overwritten. Rejects (→ 503) when the master did not take it. */
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    await this.cache.set(key, value, ttlSeconds ? ttlSeconds * 1000 : undefined);
  }

  /**
   * `undefined` on a miss. A replica may not have a write of the last milliseconds yet: for a cache
   * that is a miss like any other.
   */
  async get(key: string): Promise<string | undefined> {
    const read: { error?: unknown } = {};
    const value = await this.reads.run(read, () => this.cache.get<string>(key));
    if (read.error !== undefined) throw read.error;
    return value;
  }
}
