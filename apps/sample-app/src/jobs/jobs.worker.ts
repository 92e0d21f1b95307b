import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectRedis } from '@bastion/redis-sentinel';
import { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { appConfig, type AppConfig } from '../config/app.config.js';
import { JOBS_GROUP, JOBS_STREAM, jobKey } from './job.js';

type StreamEntry = [entryId: string, fields: string[]];

/** Entries left pending this long by any consumer (a crashed one, or one cut off by a failover) are reclaimed. */
const RECLAIM_IDLE_MS = 15_000;
const RECLAIM_EVERY_MS = 5_000;
/** Kept below the worker client's command timeout, so a blocking read is never cut short by it. */
const BLOCK_MS = 1_000;
/** How long shutdown waits for the jobs being processed. */
const DRAIN_TIMEOUT_MS = 5_000;

/**
 * Consumes the job stream through a consumer group: at-least-once processing with idempotent
 * completion. Every job that `POST /jobs` accepted ends `done`, through any number of failovers:
 * - an entry whose processing or `XACK` was lost stays pending and is reclaimed (`XAUTOCLAIM`);
 * - a group lost with a failover is re-created from the start of the stream (re-delivery is harmless).
 */
@Injectable()
export class JobsWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobsWorker.name);
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private loop: Promise<void> | undefined;
  private lastReclaim = 0;
  /** When set, this consumer's own pending entries (failed mid-way, e.g. by a failover) are read again. */
  private retryOwnPendingAt: number | undefined;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    @InjectRedis('worker') private readonly blocking: Redis,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: boot must not fail because Redis refuses writes for a moment (NOREPLICAS while
    // a replica resyncs, a failover in progress); the loop creates the group when it can.
    this.running = true;
    this.loop = this.run();
  }

  /** Stops reading, then lets the jobs in progress finish (bounded) before Redis closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    const drained = Promise.allSettled([this.loop, ...this.inFlight]);
    await Promise.race([drained, sleep(DRAIN_TIMEOUT_MS, undefined, { ref: false })]);
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', JOBS_STREAM, JOBS_GROUP, '0', 'MKSTREAM');
      this.logger.log({ message: 'created the job consumer group', stream: JOBS_STREAM, group: JOBS_GROUP });
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  private async run(): Promise<void> {
    const concurrency = this.config.workerConcurrency;
    let groupReady = false;
    while (this.running) {
      try {
        if (!groupReady) {
          await this.ensureGroup();
          groupReady = true;
        }
        if (Date.now() - this.lastReclaim > RECLAIM_EVERY_MS) await this.reclaim();
        const free = concurrency - this.inFlight.size;
        if (free <= 0) {
          await Promise.race(this.inFlight);
          continue;
        }
        if (this.retryOwnPendingAt !== undefined && Date.now() >= this.retryOwnPendingAt) {
          if (this.inFlight.size > 0) {
            await Promise.race(this.inFlight); // ID 0 would hand out the ones in progress again
            continue;
          }
          await this.retryOwnPending();
          continue;
        }
        const reply = (await this.blocking.xreadgroup(
          'GROUP',
          JOBS_GROUP,
          this.consumer,
          'COUNT',
          free,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          JOBS_STREAM,
          '>',
        )) as Array<[string, StreamEntry[]]> | null;
        for (const [, entries] of reply ?? []) for (const entry of entries) this.start(entry);
      } catch (err) {
        await this.onError(err);
      }
    }
  }

  private async reclaim(): Promise<void> {
    this.lastReclaim = Date.now();
    const free = Math.max(1, this.config.workerConcurrency - this.inFlight.size);
    const [, entries] = (await this.redis.xautoclaim(
      JOBS_STREAM,
      JOBS_GROUP,
      this.consumer,
      RECLAIM_IDLE_MS,
      '0-0',
      'COUNT',
      free,
    )) as [string, StreamEntry[], string[]?];
    if (entries.length > 0) this.logger.log({ message: 'reclaimed pending jobs', count: entries.length });
    for (const entry of entries) this.start(entry);
  }

  /** Re-reads this consumer's own pending entries (ID 0) instead of waiting for XAUTOCLAIM's idle time. */
  private async retryOwnPending(): Promise<void> {
    const count = this.config.workerConcurrency;
    const reply = (await this.blocking.xreadgroup(
      'GROUP',
      JOBS_GROUP,
      this.consumer,
      'COUNT',
      count,
      'STREAMS',
      JOBS_STREAM,
      '0',
    )) as Array<[string, StreamEntry[]]> | null;
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length < count) this.retryOwnPendingAt = undefined;
    for (const entry of entries) this.start(entry);
  }

  private start(entry: StreamEntry): void {
    const task = this.process(entry).catch((err: unknown) => {
      // Left pending: retried by this consumer shortly, or by another one through XAUTOCLAIM.
      this.retryOwnPendingAt = Date.now() + 500;
      this.logger.warn({
        message: 'job processing failed; it will be retried',
        entryId: entry[0],
        error: err,
      });
    });
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async process([entryId, fields]: StreamEntry): Promise<void> {
    const id = fields[fields.indexOf('id') + 1];
    if (!id) {
      await this.redis.xack(JOBS_STREAM, JOBS_GROUP, entryId);
      return;
    }
    if ((await this.redis.hget(jobKey(id), 'status')) === 'done') {
      // Re-delivered after it was finished (an XACK lost in a failover, a re-created group):
      // acknowledge only, so a done job never goes back to "processing".
      await this.redis.xack(JOBS_STREAM, JOBS_GROUP, entryId);
      return;
    }
    await this.redis
      .multi()
      .hset(jobKey(id), 'status', 'processing')
      .hincrby(jobKey(id), 'attempts', 1)
      .exec();
    await sleep(20); // stands for the real work
    // Idempotent completion: setting "done" twice is harmless, so re-delivery is safe.
    await this.redis.multi().hset(jobKey(id), 'status', 'done').xack(JOBS_STREAM, JOBS_GROUP, entryId).exec();
    this.logger.debug({ message: 'job done', jobId: id });
  }

  private async onError(err: unknown): Promise<void> {
    const message = String((err as Error)?.message ?? err);
    if (message.includes('NOGROUP')) {
      // The group did not survive a failover (created just before it): re-create it from the start.
      await this.ensureGroup().catch(() => undefined);
      return;
    }
    // Redis is failing over or unreachable: the client logs it; back off briefly and retry.
    if (this.running) await sleep(200);
  }
}
