/**
 * BullMQ through `@nestjs/bullmq` on the module's clients, against real Sentinel topologies: the
 * queue and the worker share the module client, the worker's blocking connection and the
 * `QueueEvents` connection are its duplicates. Workers keep processing without a restart across a
 * SIGKILL, a SIGSTOP and a manual failover of the master, and across 45 s without any Sentinel
 * (BullMQ issues #3088, #3185, #4378: a worker that says it runs and never takes a job again).
 */
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  BullModule,
  InjectQueue,
  OnQueueEvent,
  Processor,
  QueueEventsHost,
  QueueEventsListener,
  WorkerHost,
} from '@nestjs/bullmq';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import {
  DurableWriteError,
  getRedisToken,
  RedisClientsService,
  RedisSentinelModule,
} from '@bastion/redis-sentinel';
import { durableEnqueue } from '@bastion/redis-sentinel/bullmq';
import type { RedisNode, RedisTopology } from '@bastion/redis-topology';
import { useTopology } from '../../support/use-topology.js';
import {
  PROTECTED_TOPOLOGY,
  sentinelOptions,
  sleep,
  waitForSyncedMaster,
  waitReplicasAttached,
  watchSwitchMaster,
} from '../support.js';

const QUEUE = 'failover-jobs';
/** Loose bound (2 cores, other suites running): the benchmark holds the real target. */
const PROCESSED_AFTER_SWITCH_MS = 5000;

/**
 * A short stalled-job check (default 30 s) only keeps the test short: a job taken on the old
 * master whose completion was lost is back in `wait` within seconds instead of a minute.
 */
@Processor(QUEUE, { stalledInterval: 3000, lockDuration: 6000 })
class JobsProcessor extends WorkerHost {
  /** jobId → first processing time and how many times the processor ran for it. */
  readonly processed = new Map<string, { at: number; runs: number }>();

  async process(job: Job<{ id: string }>): Promise<string> {
    const seen = this.processed.get(job.id!);
    this.processed.set(job.id!, { at: seen?.at ?? Date.now(), runs: (seen?.runs ?? 0) + 1 });
    return job.data.id;
  }
}

@QueueEventsListener(QUEUE)
class JobsEvents extends QueueEventsHost {
  /** jobId → when its `completed` event arrived. */
  readonly completed = new Map<string, number>();

  @OnQueueEvent('completed')
  onCompleted({ jobId }: { jobId: string }): void {
    if (!this.completed.has(jobId)) this.completed.set(jobId, Date.now());
  }
}

@Injectable()
class Producer {
  // Explicit token: no decorator metadata under tsx/vitest.
  constructor(@InjectQueue(QUEUE) readonly queue: Queue) {}
}

interface App {
  moduleRef: TestingModule;
  clients: RedisClientsService;
  queue: Queue;
  processor: JobsProcessor;
  events: JobsEvents;
  workerErrors: Set<string>;
}

async function startApp(topo: RedisTopology): Promise<App> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      RedisSentinelModule.forRoot({ ...sentinelOptions(topo), isGlobal: true }),
      BullModule.forRootAsync({
        inject: [getRedisToken()],
        useFactory: (redis: Redis) => ({ connection: redis }),
      }),
      BullModule.registerQueue({ name: QUEUE }),
    ],
    providers: [JobsProcessor, JobsEvents, Producer],
  }).compile();
  await moduleRef.init();
  const processor = moduleRef.get(JobsProcessor);
  const events = moduleRef.get(JobsEvents);
  const workerErrors = new Set<string>();
  processor.worker.on('error', (err) => workerErrors.add(`${err.name}: ${err.message.slice(0, 80)}`));
  // Without a listener BullMQ prints every error it emits (here: the failover's connection errors).
  events.queueEvents.on('error', () => undefined);
  const queue = moduleRef.get(Producer).queue;
  queue.on('error', () => undefined);
  await processor.worker.waitUntilReady();
  await events.queueEvents.waitUntilReady();
  return {
    moduleRef,
    clients: moduleRef.get(RedisClientsService),
    queue,
    processor,
    events,
    workerErrors,
  };
}

interface Load {
  /** Jobs `durableEnqueue` confirmed, with when the call started and ended. */
  acked: Array<{ id: string; started: number; at: number }>;
  unconfirmed: number;
  failed: Set<string>;
  stop(): Promise<void>;
}

/** `durableEnqueue` every ~10 ms, each with a unique jobId. */
function startLoad(queue: Queue, prefix: string): Load {
  const state = { running: true };
  const load: Load = { acked: [], unconfirmed: 0, failed: new Set(), stop: async () => undefined };
  let seq = 0;
  const loop = (async () => {
    while (state.running) {
      const id = `${prefix}-${++seq}`;
      const started = Date.now();
      try {
        await durableEnqueue(queue, 'job', { id }, { jobId: id });
        load.acked.push({ id, started, at: Date.now() });
      } catch (err) {
        if (err instanceof DurableWriteError) load.unconfirmed++;
        else load.failed.add((err as Error).name);
      }
      await sleep(10);
    }
  })();
  load.stop = async () => {
    state.running = false;
    await loop;
  };
  return load;
}

/**
 * Waits until every acknowledged job was processed at least once and is in a final state on the
 * current master (a job missing there was lost even if a processor ran it on the old master).
 */
async function expectNoneLost(
  app: App,
  load: Load,
): Promise<{ twice: number; completed: number; failed: number }> {
  await vi.waitFor(
    () =>
      expect(
        load.acked.filter((a) => !app.processor.processed.has(a.id)).map((a) => a.id),
        'acknowledged jobs not processed',
      ).toEqual([]),
    { timeout: 20_000, interval: 50 },
  );
  let states: string[] = [];
  await vi.waitFor(
    async () => {
      states = await Promise.all(load.acked.map((a) => app.queue.getJobState(a.id)));
      const unfinished = load.acked
        .map((a, i) => `${a.id}: ${states[i]}`)
        .filter((_, i) => states[i] !== 'completed' && states[i] !== 'failed');
      expect(unfinished, 'acknowledged jobs completed or failed on the master').toEqual([]);
    },
    { timeout: 20_000, interval: 200 },
  );
  return {
    twice: [...app.processor.processed.values()].filter((p) => p.runs > 1).length,
    completed: states.filter((s) => s === 'completed').length,
    failed: states.filter((s) => s === 'failed').length,
  };
}

/**
 * Runs `trigger` under the enqueue load and checks that the worker and the queue events follow
 * the new master without a restart. Returns the figures measured from `+switch-master`.
 */
async function survivesFailover(
  topo: RedisTopology,
  app: App,
  label: string,
  trigger: (master: RedisNode) => Promise<void> | void,
): Promise<{ enqueuedMs: number; processedMs: number; completedEventMs: number }> {
  const observer = await watchSwitchMaster(topo);
  const load = startLoad(app.queue, label);
  try {
    await vi.waitFor(
      () => expect(app.processor.processed.size >= 20, 'jobs processed before the failover').toBe(true),
      { timeout: 10_000, interval: 20 },
    );
    const oldPort = (await topo.currentMasterPort())!;
    const triggeredAt = Date.now();
    await trigger(topo.nodeByPort(oldPort));
    await observer.firstSwitch();
    const { at: switchAt, to: newPort } = observer.switches[0]!;

    // The first job whose enqueue started after the switch: acknowledged, processed, announced.
    await vi.waitFor(
      () =>
        expect(
          load.acked.some((a) => a.started > switchAt),
          'a job enqueued after the switch',
        ).toBe(true),
      { timeout: 10_000, interval: 10 },
    );
    const first = load.acked.find((a) => a.started > switchAt)!;
    await vi.waitFor(
      () => expect(app.processor.processed.has(first.id), `job ${first.id} processed`).toBe(true),
      { timeout: 15_000, interval: 10 },
    );
    await vi.waitFor(
      () => expect(app.events.completed.has(first.id), `completed event of ${first.id}`).toBe(true),
      { timeout: 15_000, interval: 10 },
    );
    const figures = {
      enqueuedMs: first.at - switchAt,
      processedMs: app.processor.processed.get(first.id)!.at - switchAt,
      completedEventMs: app.events.completed.get(first.id)! - switchAt,
    };

    // Keep going for a while on the new master, then stop and account for every job.
    const ackedAtSwitch = load.acked.length;
    await vi.waitFor(() => expect(load.acked.length >= ackedAtSwitch + 30, 'enqueues continue').toBe(true), {
      timeout: 10_000,
      interval: 20,
    });
    await load.stop();
    const outcome = await expectNoneLost(app, load);
    const last = load.acked.at(-1)!;
    await vi.waitFor(
      () => expect(app.events.completed.has(last.id), 'completed events keep coming').toBe(true),
      { timeout: 10_000, interval: 20 },
    );
    expect(app.processor.worker.isRunning()).toBe(true);
    const newAddress = `127.0.0.1:${newPort}`;
    // The module client (queue and worker commands) and its two copies (the worker's blocking
    // connection, the QueueEvents connection) are all on the new master.
    expect(app.clients.stats().clients.map((c) => `${c.status} ${c.address}`)).toEqual([
      `ready ${newAddress}`,
    ]);
    expect(app.clients.stats().duplicates.map((c) => `${c.status} ${c.address}`)).toEqual([
      `ready ${newAddress}`,
      `ready ${newAddress}`,
    ]);
    console.log(
      `[bullmq ${label}] switch ${switchAt - triggeredAt} ms after the trigger; first job enqueued after +switch-master: ` +
        `acknowledged +${figures.enqueuedMs} ms, processed +${figures.processedMs} ms, completed event +${figures.completedEventMs} ms; ` +
        `${load.acked.length} acknowledged, 0 lost (${outcome.completed} completed, ${outcome.failed} failed), ` +
        `${outcome.twice} processed twice, ${load.unconfirmed} unconfirmed, ` +
        `failed: [${[...load.failed].join(', ')}], worker errors: [${[...app.workerErrors].join(' | ')}]`,
    );
    expect(figures.processedMs).toBeLessThan(PROCESSED_AFTER_SWITCH_MS);
    // QueueEvents' blocking XREAD is read-only: the module sends it again on the new master
    // instead of failing it (BullMQ would then pause its event loop for 5 s).
    expect(figures.completedEventMs).toBeLessThan(PROCESSED_AFTER_SWITCH_MS);
    return figures;
  } finally {
    await load.stop();
    observer.close();
  }
}

describe('BullMQ: SIGKILL of the master', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it('the worker keeps processing without a restart, no acknowledged job is lost, queue events follow', async () => {
    const app = await startApp(topo);
    try {
      await survivesFailover(topo, app, 'kill', (master) => topo.kill(master));
    } finally {
      await app.moduleRef.close();
    }
    expect(app.clients.stats().duplicates).toEqual([]);
  });
});

describe('BullMQ: SIGSTOP of the master', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it('the worker leaves the frozen master and keeps processing; the thawed node comes back as a replica', async () => {
    const app = await startApp(topo);
    let frozen: RedisNode | undefined;
    try {
      await survivesFailover(topo, app, 'freeze', (master) => {
        frozen = master;
        topo.freeze(master);
      });
      expect(frozen!.stopped).toBe(true);
    } finally {
      if (frozen) topo.thaw(frozen);
      await app.moduleRef.close();
    }
    await vi.waitFor(async () => expect(await topo.role(frozen!)).toBe('slave'), {
      timeout: 20_000,
      interval: 50,
    });
  });
});

describe('BullMQ: manual failover, durable enqueue errors', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it('the worker follows SENTINEL FAILOVER without a restart', async () => {
    const app = await startApp(topo);
    try {
      await survivesFailover(topo, app, 'manual', async (master) => {
        await waitReplicasAttached(topo, master.port, 2);
        // Sentinel answers NOGOODSLAVE until it sees a healthy replica: retry.
        await vi.waitFor(() => topo.triggerFailover(), { timeout: 20_000, interval: 50 });
      });
    } finally {
      await app.moduleRef.close();
    }
  });

  it('durableEnqueue throws DurableWriteError when too few replicas acknowledge (the job may exist)', async () => {
    const app = await startApp(topo);
    const masterPort = await waitForSyncedMaster(topo, 2);
    const replicas = topo.dataNodes.filter((n) => n.port !== masterPort);
    try {
      // Three replicas asked of a topology with two.
      const t0 = Date.now();
      const three = await durableEnqueue(
        app.queue,
        'job',
        { id: 'r3' },
        { jobId: 'r3' },
        {
          replicas: 3,
          timeoutMs: 300,
        },
      ).catch((e: unknown) => e);
      expect(three).toBeInstanceOf(DurableWriteError);
      expect(three).toMatchObject({ requiredReplicas: 3, acknowledgedReplicas: 2, timeoutMs: 300 });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      // The master has it; BullMQ processes it. Retrying with the same jobId adds nothing.
      expect((three as DurableWriteError).results[0]).toMatchObject({ id: 'r3' });
      await vi.waitFor(() => expect(app.processor.processed.has('r3')).toBe(true), { timeout: 5000 });

      // Both replicas frozen: none acknowledges.
      for (const r of replicas) topo.freeze(r);
      const none = await durableEnqueue(
        app.queue,
        'job',
        { id: 'frozen' },
        { jobId: 'frozen' },
        {
          timeoutMs: 300,
        },
      ).catch((e: unknown) => e);
      expect(none).toBeInstanceOf(DurableWriteError);
      expect(none).toMatchObject({ requiredReplicas: 1, acknowledgedReplicas: 0 });
      for (const r of replicas) topo.thaw(r);
      await vi.waitFor(
        () =>
          expect(
            durableEnqueue(app.queue, 'job', { id: 'thawed' }, { jobId: 'thawed' }),
          ).resolves.toMatchObject({
            id: 'thawed',
          }),
        { timeout: 10_000, interval: 50 },
      );
      expect(app.processor.worker.isRunning()).toBe(true);
    } finally {
      for (const r of replicas) topo.thaw(r);
      await app.moduleRef.close();
    }
  });

  it('durableEnqueue throws a TypeError for a queue that does not run on a module client', async () => {
    const master = topo.nodeByPort((await topo.currentMasterPort())!);
    // Plain options: BullMQ opens its own connection, which WAIT cannot see.
    const fromOptions = new Queue('plain-options', { connection: { ...topo.connectionOptions(master) } });
    // A plain ioredis client is no better.
    const plain = new Redis({
      ...topo.connectionOptions(master),
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    const fromClient = new Queue('plain-client', { connection: plain });
    for (const q of [fromOptions, fromClient]) q.on('error', () => undefined);
    try {
      for (const queue of [fromOptions, fromClient]) {
        const err = await durableEnqueue(queue, 'job', {}).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TypeError);
        expect((err as Error).message).toMatch(
          new RegExp(`queue "${queue.name}" does not run on a RedisSentinelModule client`),
        );
      }
      // Nothing was added: the check comes before the write.
      expect(await fromOptions.count()).toBe(0);
      expect(await fromClient.count()).toBe(0);
    } finally {
      await fromOptions.close();
      await fromClient.close();
      plain.disconnect();
    }
  });
});

describe('BullMQ: every Sentinel down for 45 s (langfuse reproduction)', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it('keeps enqueuing durably and processing on the unchanged master, then follows a failover started right after the Sentinels are back', async () => {
    const app = await startApp(topo);
    const masterPort = (await topo.currentMasterPort())!;
    // Every Sentinel down (connections refused): no failover can run, durable enqueues go on.
    const load = startLoad(app.queue, 'outage');
    try {
      await vi.waitFor(() => expect(app.processor.processed.size >= 20).toBe(true), {
        timeout: 10_000,
        interval: 20,
      });
      for (const s of topo.sentinels) await topo.kill(s);
      const downAt = Date.now();
      const ackedBefore = load.acked.length;
      await sleep(45_000 - (Date.now() - downAt));

      // Still working at the end of the outage: recent jobs are enqueued, processed and announced.
      const recent = load.acked.filter((a) => a.started > downAt + 40_000);
      expect(recent.length, 'jobs enqueued in the outage’s last 5 s').toBeGreaterThan(50);
      const lastOfOutage = recent.at(-1)!;
      await vi.waitFor(
        () =>
          expect(
            app.processor.processed.has(lastOfOutage.id) && app.events.completed.has(lastOfOutage.id),
            'processed and announced during the outage',
          ).toBe(true),
        { timeout: 5000, interval: 10 },
      );
      expect(app.processor.worker.isRunning()).toBe(true);
      expect(app.clients.stats().clients[0]).toMatchObject({
        status: 'ready',
        address: `127.0.0.1:${masterPort}`,
      });
      console.log(
        `[bullmq outage] 45 s without Sentinels: ${load.acked.length - ackedBefore} jobs acknowledged, ` +
          `last one processed ${app.processor.processed.get(lastOfOutage.id)!.at - lastOfOutage.at} ms after its acknowledgement; ` +
          `worker errors: [${[...app.workerErrors].join(' | ')}]`,
      );

      await load.stop();
      // No failover yet: every job ran once and completed.
      expect(await expectNoneLost(app, load)).toEqual({ twice: 0, completed: load.acked.length, failed: 0 });
      // A failover right after the Sentinels restart. Durable enqueues are refused until every
      // watcher connection answers again (only the failover's leader announces it), so none is
      // confirmed by a replica that the failover leaves behind (before: 37 of 470 lost).
      for (const s of topo.sentinels) await topo.restart(s);
      await survivesFailover(topo, app, 'after-outage', async (master) => {
        await waitReplicasAttached(topo, master.port, 2);
        await vi.waitFor(() => topo.triggerFailover(), { timeout: 20_000, interval: 50 });
      });
    } finally {
      await load.stop();
      await app.moduleRef.close();
    }
  }, 120_000);
});
