/**
 * BullMQ on a RedisClusterModule client against a real Redis Cluster: the queue and the worker
 * share the module client (hash-tag prefix `{bull}`: every key of the queue in one slot), the
 * worker's blocking connection is its managed copy. A SIGKILL of the master that owns the
 * queue's slot: the worker keeps processing without a restart, and no job that `durableEnqueue`
 * acknowledged is lost.
 */
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { DurableWriteError } from '@bastion/redis-sentinel';
import { durableEnqueue } from '@bastion/redis-sentinel/bullmq';
import { useCluster } from '../../support/use-cluster.js';
import { CLUSTER_PASSWORD, clusterOptions, sleep, startClusterModule } from '../cluster-support.js';

const QUEUE = 'cluster-jobs';
const PREFIX = '{bull}';

describe('BullMQ on a Redis Cluster client', () => {
  const cluster = useCluster({ password: CLUSTER_PASSWORD });

  it('durableEnqueue refuses a queue whose prefix has no hash tag (nothing added), and confirms one with', async () => {
    const app = await startClusterModule(clusterOptions(cluster));
    const redis = app.clients.get();
    const plain = new Queue('plain', { connection: redis });
    const empty = new Queue('empty-tag', { connection: redis, prefix: '{}' });
    // A queue name in braces is not enough: BullMQ's scripts touch keys outside the queue's own.
    const named = new Queue('{named}', { connection: redis });
    const tagged = new Queue('tagged', { connection: redis, prefix: '{app}:bull' });
    for (const q of [plain, empty, named, tagged]) q.on('error', () => undefined);
    try {
      for (const queue of [plain, empty, named]) {
        const err = await durableEnqueue(queue, 'job', {}).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TypeError);
        expect((err as Error).message).toMatch(
          /do not share one slot; set a hash-tag prefix, e\.g\. .*prefix: "\{bull\}"/,
        );
      }
      // Refused before anything is sent: its keys are in no slot of their own (BullMQ's scripts
      // would fail on them anyway).
      expect(app.clients.stats().durableWrites).toEqual({ confirmed: 0, unconfirmed: 0, refused: 0 });
      await expect(durableEnqueue(tagged, 'job', { n: 1 }, { jobId: 'n1' })).resolves.toMatchObject({
        id: 'n1',
      });
      await expect(durableEnqueue(tagged, 'job', { n: 2 })).resolves.toMatchObject({ data: { n: 2 } });
      expect(app.clients.stats().durableWrites.confirmed).toBe(2);
    } finally {
      for (const q of [plain, empty, named, tagged]) await q.close();
      await app.moduleRef.close();
    }
  });

  it('keeps processing across a SIGKILL of the queue slot master, no acknowledged job lost', async () => {
    // Above the ~1 s election (CLUSTERDOWN on every shard), with room for a loaded host.
    const app = await startClusterModule(clusterOptions(cluster, { commandTimeoutMs: 3000 }));
    const redis = app.clients.get();
    const queue = new Queue(QUEUE, { connection: redis, prefix: PREFIX });
    const processed = new Map<string, number>();
    const processedAt = new Map<string, number>();
    // A short stalled-job check only keeps the test short (a job whose completion died with the
    // master is back in wait within seconds).
    const worker = new Worker(
      QUEUE,
      async (job: Job<{ id: string }>) => {
        processed.set(job.id!, (processed.get(job.id!) ?? 0) + 1);
        if (!processedAt.has(job.id!)) processedAt.set(job.id!, Date.now());
        return job.data.id;
      },
      { connection: redis, prefix: PREFIX, stalledInterval: 3000, lockDuration: 6000 },
    );
    // QueueEvents reads the events stream with XREAD BLOCK on a copy of its own.
    const events = new QueueEvents(QUEUE, { connection: redis, prefix: PREFIX });
    const completedAt = new Map<string, number>();
    events.on(
      'completed',
      ({ jobId }) => void (completedAt.has(jobId) || completedAt.set(jobId, Date.now())),
    );
    events.on('error', () => undefined);
    const workerErrors = new Set<string>();
    worker.on('error', (err) => workerErrors.add(err.message.slice(0, 60)));
    queue.on('error', () => undefined);
    const acked: Array<{ id: string; started: number }> = [];
    let unconfirmed = 0;
    let failures = 0;
    const failed = new Set<string>();
    const state = { running: true };
    let seq = 0;
    const loop = (async () => {
      while (state.running) {
        const id = `job-${++seq}`;
        const started = Date.now();
        try {
          await durableEnqueue(queue, 'job', { id }, { jobId: id });
          acked.push({ id, started });
        } catch (err) {
          if (err instanceof DurableWriteError) unconfirmed++;
          else {
            failures++;
            failed.add((err as Error).message.slice(0, 60));
          }
        }
        await sleep(10);
      }
    })();
    try {
      await worker.waitUntilReady();
      await events.waitUntilReady();
      await vi.waitFor(() => expect(processed.size).toBeGreaterThanOrEqual(20), {
        timeout: 10_000,
        interval: 20,
      });
      expect(
        app.clients.stats().duplicates.map((d) => `${d.name} ${d.status}`),
        "the worker's blocking connection and the QueueEvents one",
      ).toEqual(['default#1 ready', 'default#2 ready']);
      const victim = await cluster.masterForKey(PREFIX);
      await cluster.kill(victim);
      await cluster.waitForPromotion(victim);
      const promotedAt = Date.now();
      // The promoted master has no replica left: durable enqueues are unconfirmed (the jobs exist)
      // until the old master is back as its replica.
      await cluster.restart(victim);
      await vi.waitFor(
        () => expect(acked.some((a) => a.started > promotedAt && processed.has(a.id))).toBe(true),
        { timeout: 15_000, interval: 20 },
      );
      const first = acked.find((a) => a.started > promotedAt && processed.has(a.id))!;
      const count = acked.length;
      await vi.waitFor(() => expect(acked.length).toBeGreaterThanOrEqual(count + 30), { timeout: 10_000 });
      state.running = false;
      await loop;

      await vi.waitFor(
        () =>
          expect(
            acked.filter((a) => !processed.has(a.id)).map((a) => a.id),
            'acknowledged, not processed',
          ).toEqual([]),
        { timeout: 20_000, interval: 50 },
      );
      let states: string[] = [];
      await vi.waitFor(
        async () => {
          states = await Promise.all(acked.map((a) => queue.getJobState(a.id)));
          expect(
            acked.filter((_, i) => states[i] !== 'completed' && states[i] !== 'failed').map((a) => a.id),
          ).toEqual([]);
        },
        { timeout: 20_000, interval: 200 },
      );
      const last = acked.at(-1)!;
      await vi.waitFor(() => expect(completedAt.has(last.id), 'completed events keep coming').toBe(true), {
        timeout: 15_000,
        interval: 20,
      });
      const firstEvent = [...completedAt.values()].find((t) => t > promotedAt)!;
      console.log(
        `[bullmq cluster kill] first job acknowledged after the harness saw the promotion processed +${processedAt.get(first.id)! - promotedAt} ms; ` +
          `first completed event after it +${firstEvent - promotedAt} ms; ` +
          `${acked.length} acknowledged, 0 lost (${states.filter((s) => s === 'completed').length} completed), ` +
          `${[...processed.values()].filter((n) => n > 1).length} processed twice, ${unconfirmed} unconfirmed, ` +
          `${failures} failed: [${[...failed].join(' | ')}], worker errors: [${[...workerErrors].join(' | ')}]`,
      );
      expect(worker.isRunning()).toBe(true);
      expect(app.clients.stats().duplicates.map((d) => `${d.name} ${d.status}`)).toEqual([
        'default#1 ready',
        'default#2 ready',
      ]);
    } finally {
      state.running = false;
      await loop;
      await events.close();
      await worker.close();
      await queue.close();
      await app.moduleRef.close();
    }
    expect(app.clients.stats().duplicates).toEqual([]);
  });
});
