import { Inject, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { appConfig, type AppConfig } from '../config/app.config.js';
import { RepeatedErrorLog } from '../common/repeated-error-log.js';
import { JOBS_QUEUE, type JobData } from './job.js';

/** How long shutdown lets the jobs in progress finish before it interrupts them (they are retried). */
const DRAIN_TIMEOUT_MS = 5_000;
/** Stands for the real work of a job. */
const WORK_MS = 20;

/**
 * The in-app worker: at-least-once processing with idempotent work. Every job that `POST /jobs`
 * accepted ends `completed`, through any number of failovers:
 * - its connections are the module's (BullMQ shares the default client and duplicates it for the
 *   blocking `BZPOPMIN`), so the worker follows every failover without a restart;
 * - a job whose completion was lost with a failover keeps its lock until the lock expires, then
 *   BullMQ's stalled-job check moves it back to waiting and it runs again (harmless: idempotent).
 *
 * BullMQ's defaults are tuned for long jobs on one stable Redis. Here:
 * - `lockDuration` 10 s (default 30 s) and `stalledInterval` 5 s (default 30 s): a job stranded by a
 *   failover is back in the queue within about lockDuration + 2 × stalledInterval = 20 s instead of
 *   90 s, which the failover test's 45 s budget needs. Jobs last milliseconds; the lock is renewed
 *   every 5 s, so a job is never taken for stalled while it runs.
 * - `maxStalledCount` 10 (default 1): a stall here means a failover or a killed instance, not a
 *   job that crashes its worker; BullMQ's 1 would fail a job stranded by two failovers in a row.
 * - `runRetryDelay` 1 s (default 15 s): how long the worker waits after a connection error
 *   before it fetches or completes again; 15 s would idle the worker long after the new master is up.
 * - `autorun: false`: started in `onApplicationBootstrap`, once the concurrency from the
 *   configuration is set.
 */
@Processor(JOBS_QUEUE, {
  autorun: false,
  lockDuration: 10_000,
  stalledInterval: 5_000,
  maxStalledCount: 10,
  runRetryDelay: 1_000,
})
export class JobsProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobsProcessor.name);
  private readonly errors = new RepeatedErrorLog(this.logger, 'job worker error');
  /** Aborted when shutdown stops waiting: the jobs still running fail and are retried elsewhere. */
  private readonly interrupt = new AbortController();

  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {
    super();
  }

  async process(job: Job<JobData>): Promise<void> {
    // Idempotent: running a job twice (after a failover, a stalled-job recovery) is harmless.
    await sleep(WORK_MS, undefined, { signal: this.interrupt.signal });
    this.logger.debug({ message: 'job done', jobId: job.id, attempt: job.attemptsStarted });
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.workerConcurrency;
    // Not awaited (it resolves when the worker closes): a Redis error does not fail the boot;
    // the worker retries by itself, and its errors reach the 'error' handler below.
    this.worker
      .run()
      .catch((err: unknown) => this.logger.error({ message: 'job worker stopped', error: err }));
  }

  /**
   * Before Nest's other shutdown hooks: stops taking jobs, then lets the ones in progress finish,
   * for at most DRAIN_TIMEOUT_MS. `@nestjs/bullmq` closes the worker in `onApplicationShutdown`,
   * but `worker.close()` waits for the jobs without a bound; closed here, it is already closed
   * then (close() answers the same promise), and the module's clients close after it.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const closed = this.worker.close().then(
      () => true,
      () => true,
    );
    if (await Promise.race([closed, sleep(DRAIN_TIMEOUT_MS, false, { ref: false })])) return;
    this.logger.warn(`jobs still running after ${DRAIN_TIMEOUT_MS} ms; interrupting them (they are retried)`);
    this.interrupt.abort();
    await closed;
  }

  /** Connection errors while Redis fails over: logged once per kind, then counted (no log spam). */
  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.errors.report(error);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<JobData> | undefined, error: Error): void {
    this.logger.warn({ message: 'job attempt failed', jobId: job?.id, attempt: job?.attemptsStarted, error });
  }
}
