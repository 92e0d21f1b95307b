import { Injectable } from '@nestjs/common';
import { InjectRedis } from '@bastion/redis-sentinel';
import { Redis } from 'ioredis';

const PREFIX = 'cache:';

@Injectable()
export class CacheService {
  constructor(
    @InjectRedis() private readonly master: Redis,
    @InjectRedis('reads') private readonly reads: Redis,
  ) {}

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    if (ttlSeconds) await this.master.set(PREFIX + key, value, 'EX', ttlSeconds);
    else await this.master.set(PREFIX + key, value);
  }

  /**
   * Reads from a replica (read scaling); a miss there is checked on the master, because a
   * replica may not have the newest write yet.
   */
  async get(key: string): Promise<string | null> {
    return (await this.reads.get(PREFIX + key)) ?? (await this.master.get(PREFIX + key));
  }
}
