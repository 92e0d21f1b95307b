import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import {
  DurableWriteError,
  InjectRedis,
  REDIS_UNAVAILABLE_BODY,
  durableWrite,
} from '@bastion/redis-sentinel';
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
      const reason = err instanceof DurableWriteError ? err.message : (err as Error).message;
      this.logger.warn({ message: 'job not accepted', jobId: id, reason });
      throw new ServiceUnavailableException({
        ...REDIS_UNAVAILABLE_BODY,
        message: 'the job could not be stored durably right now; it was NOT accepted — retry',
      });
    }
    return id;
  }

  async find(id: string): Promise<JobView | undefined> {
    const [status, attempts] = await this.redis.hmget(jobKey(id), 'status', 'attempts');
    if (!status) return undefined;
    return { id, status: status as JobStatus, attempts: Number(attempts ?? 0) };
  }
}
