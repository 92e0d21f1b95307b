import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRedis, durableWrite } from '@bastion/redis-sentinel';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { appConfig, type AppConfig } from '../config/app.config.js';
import { JOBS_STREAM, jobKey, type JobStatus, type JobView } from './job.js';

@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    @InjectRedis() private readonly redis: Redis,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  /**
   * Stores the job and its stream entry, then waits until at least one replica acknowledged
   * both (`WAIT 1`). Only then is the job accepted: if the master dies afterwards, the promoted
   * replica has it. Otherwise → 503, and the caller must retry (the job is not reported accepted).
   */
  async enqueue(payload: unknown): Promise<string> {
    const id = randomUUID();
    try {
      await durableWrite(
        this.redis,
        (p) =>
          p
            .hset(jobKey(id), 'status', 'queued', 'attempts', 0, 'payload', JSON.stringify(payload))
            .xadd(JOBS_STREAM, '*', 'id', id),
        { replicas: 1, timeoutMs: this.config.jobAckTimeoutMs },
      );
    } catch (err) {
      // Not accepted: the caller must retry. RedisUnavailableFilter answers 503 + Retry-After for a
      // DurableWriteError or an outage error; anything else is a bug and stays a 500.
      this.logger.warn({ message: 'job not accepted', jobId: id, reason: (err as Error).message });
      throw err;
    }
    return id;
  }

  async find(id: string): Promise<JobView | undefined> {
    const [status, attempts] = await this.redis.hmget(jobKey(id), 'status', 'attempts');
    if (!status) return undefined;
    return { id, status: status as JobStatus, attempts: Number(attempts ?? 0) };
  }
}
