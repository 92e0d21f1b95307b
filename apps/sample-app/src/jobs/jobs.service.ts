import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { durableEnqueue } from '@bastion/redis-sentinel/bullmq';
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { appConfig, type AppConfig } from '../config/app.config.js';
import { RepeatedErrorLog } from '../common/repeated-error-log.js';
import { JOBS_QUEUE, jobStatus, type JobData, type JobView } from './job.js';

@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);
  private readonly errors = new RepeatedErrorLog(this.logger, 'job queue error');

  constructor(
    @InjectQueue(JOBS_QUEUE) private readonly queue: Queue<JobData>,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {
    // The queue re-emits the errors of its (shared) connection: while Redis fails over, and at
    // boot while the client is not ready yet. Without a listener BullMQ prints each one with its
    // stack to the console. Here, not in onModuleInit: a boot that fails never gets there.
    this.queue.on('error', (err) => this.errors.report(err));
  }

  /**
   * Adds the job to the BullMQ queue, then waits until at least one replica acknowledged it
   * (`WAIT 1` on the connection that wrote it). Only then is the job accepted: if the master dies
   * afterwards, the promoted replica has it. Otherwise → 503, and the caller must retry (the job
   * is not reported accepted; it may still run: processing is idempotent). BullMQ adds a job id
   * once, so a retry with the same id never makes a second job.
   */
  async enqueue(payload: unknown, jobId: string = randomUUID()): Promise<string> {
    try {
      await durableEnqueue(
        this.queue,
        'job',
        { payload },
        { jobId },
        { replicas: 1, timeoutMs: this.config.jobAckTimeoutMs },
      );
    } catch (err) {
      // Not accepted: the caller must retry. RedisUnavailableFilter answers 503 + Retry-After for a
      // DurableWriteError or an outage error; anything else is a bug and stays a 500.
      this.logger.warn({ message: 'job not accepted', jobId, reason: (err as Error).message });
      throw err;
    }
    return jobId;
  }

  async find(id: string): Promise<JobView | undefined> {
    const job = await this.queue.getJob(id);
    if (!job) return undefined;
    const status = jobStatus(await job.getState());
    // Removed between the two reads (removeOnComplete): as if it had never been found.
    if (!status) return undefined;
    return { id, status, attempts: job.attemptsStarted };
  }
}
