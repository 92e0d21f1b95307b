import type { Redis } from 'ioredis';
import { DurableWriteError, RedisConnectionLostError, durableWrite } from '@bastion/redis-sentinel';
import { useTopology } from '../support/use-topology.js';
import { PROTECTED_TOPOLOGY, sentinelOptions, sleep, startModule, watchSwitchMaster } from './support.js';

/** Settles a promise into a value or the error's class name, for assertions. */
const outcome = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (value) => ({ value }),
    (err: Error) => ({ error: err.constructor.name }),
  );

describe('commands in flight when a failover drops the connection', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it('a lone read is sent again on the new master; a write and a pipelined read are rejected', async () => {
    const observer = await watchSwitchMaster(topo);
    const app = await startModule(sentinelOptions(topo));
    const redis: Redis = app.clients.get();
    // Blocking commands keep their connection busy: one copy each, so all are in flight together.
    const reader = redis.duplicate();
    const popper = redis.duplicate();
    const piped = redis.duplicate();
    try {
      await Promise.all([reader.ping(), popper.ping(), piped.ping()]);
      // XREAD BLOCK from "$": only entries added after it runs. Read-only: safe to run twice.
      const read = outcome(reader.xread('BLOCK', 20_000, 'STREAMS', 'in-flight:stream', '$'));
      // BLPOP removes what it returns: a write, never resent (it may have popped on the old master).
      const pop = outcome(popper.blpop('in-flight:list', 20));
      // A read inside a pipeline would lose the pipeline's order if sent alone.
      const pipelined = outcome(
        piped.pipeline().xread('BLOCK', 20_000, 'STREAMS', 'in-flight:p', '$').exec(),
      );
      await vi.waitFor(
        async () =>
          expect(
            (await topo.command(topo.master, 'CLIENT', 'LIST')).match(/cmd=(xread|blpop)/g)?.length,
          ).toBe(3),
        { timeout: 5000, interval: 20 },
      );

      await topo.kill(topo.master);
      await observer.firstSwitch();
      expect(await pop).toEqual({ error: RedisConnectionLostError.name });
      const [[pipelineError]] = ((await pipelined) as { value: [[Error | null, unknown]] }).value;
      expect(pipelineError).toBeInstanceOf(RedisConnectionLostError);

      // The XREAD waits on the new master: an entry added there reaches it. Added once the XREAD is
      // there: resent, it reads from "$" again, so an entry added before the resend is not for it.
      const newMaster = topo.nodeByPort(observer.switches[0]!.to);
      await vi.waitFor(
        async () => expect(await topo.command(newMaster, 'CLIENT', 'LIST')).toMatch(/cmd=xread/),
        { timeout: 10_000, interval: 20 },
      );
      await vi.waitFor(async () => expect(await redis.xadd('in-flight:stream', '*', 'n', '1')).toBeTruthy(), {
        timeout: 10_000,
        interval: 20,
      });
      const got = (await read) as { value?: [string, [string, string[]][]][] };
      expect(got.value?.[0]?.[0]).toBe('in-flight:stream');
      expect(got.value?.[0]?.[1][0]?.[1]).toEqual(['n', '1']);
    } finally {
      observer.close();
      await app.moduleRef.close();
    }
  });

  it('durable writes: refused while a Sentinel is silent (frozen: its socket stays open), accepted when every Sentinel answers or refuses connections', async () => {
    const app = await startModule(sentinelOptions(topo));
    const redis: Redis = app.clients.get();
    const [frozen, ...others] = topo.sentinels;
    try {
      await durableWrite(redis, (p) => p.set('watched', '1'));
      // One silent Sentinel could lead a failover unseen: only the leader announces it.
      topo.freeze(frozen!);
      const frozenAt = Date.now();
      await vi.waitFor(
        async () => {
          const error = await durableWrite(redis, (p) => p.set('watched', '2')).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(DurableWriteError);
          expect((error as Error).message).toMatch(/not every Sentinel is heard/);
        },
        { timeout: 10_000, interval: 50 },
      );
      console.log(`[in-flight] durable writes refused ${Date.now() - frozenAt} ms after one Sentinel froze`);
      // Plain commands never depend on the Sentinels.
      expect(await redis.set('watched', '3')).toBe('OK');

      // Killed (connections refused) instead of frozen: that one cannot fail over, the rest answer.
      topo.thaw(frozen!);
      await topo.kill(frozen!);
      await vi.waitFor(
        async () => expect(await durableWrite(redis, (p) => p.set('watched', '4'))).toEqual(['OK']),
        {
          timeout: 10_000,
          interval: 50,
        },
      );
      // Every Sentinel down: no failover can run at all, so durable writes go on.
      for (const s of others) await topo.kill(s);
      await sleep(1500);
      expect(await durableWrite(redis, (p) => p.set('watched', '5'))).toEqual(['OK']);

      const restarted = Date.now();
      for (const s of topo.sentinels) await topo.restart(s);
      await vi.waitFor(
        async () => expect(await durableWrite(redis, (p) => p.set('watched', '6'))).toEqual(['OK']),
        {
          timeout: 5000,
          interval: 20,
        },
      );
      console.log(
        `[in-flight] durable writes accepted ${Date.now() - restarted} ms after the Sentinels restarted`,
      );
    } finally {
      topo.thaw(frozen!);
      await app.moduleRef.close();
    }
  });

  it('the boot waits for a Sentinel slow to answer, so the first durable write is not refused; one silent for good holds it about 2 s', async () => {
    // The last one listed: the clients resolve the master through the first that answers.
    const slow = topo.sentinels.at(-1)!;
    topo.freeze(slow);
    const thawing = setTimeout(() => topo.thaw(slow), 500);
    try {
      const app = await startModule(sentinelOptions(topo));
      try {
        // Booting on the first subscription alone left this Sentinel unheard for 500 ms.
        expect(app.clients.stats().sentinelsHeard).toBe(topo.sentinels.length);
        expect(await durableWrite(app.clients.get(), (p) => p.set('boot', '1'))).toEqual(['OK']);
      } finally {
        await app.moduleRef.close();
      }

      topo.freeze(slow);
      const started = Date.now();
      const held = await startModule(sentinelOptions(topo));
      const bootMs = Date.now() - started;
      try {
        console.log(`[in-flight] boot with one Sentinel frozen took ${bootMs} ms`);
        // Loose bounds: the grace is 2 s, far below the 10 s startup timeout.
        expect(bootMs).toBeGreaterThanOrEqual(1500);
        expect(bootMs).toBeLessThan(6000);
        const error = await durableWrite(held.clients.get(), (p) => p.set('boot', '2')).catch(
          (e: unknown) => e,
        );
        expect((error as Error).message).toMatch(/not every Sentinel is heard/);
      } finally {
        await held.moduleRef.close();
      }
    } finally {
      clearTimeout(thawing);
      topo.thaw(slow);
    }
  });

  it('connect() of a client that waits settles when it is ready, though the first dial fails (BullMQ keeps a rejection for good)', async () => {
    const app = await startModule(sentinelOptions(topo));
    try {
      // A copy waits until someone connects it, as BullMQ does with the clients it is given.
      const copy = app.clients.get().duplicate();
      // The Sentinels still name the killed master for a while: the first dial is refused.
      const master = topo.nodeByPort((await topo.currentMasterPort())!);
      await topo.kill(master);
      const started = Date.now();
      const settled = await copy.connect().then(
        () => 'ready',
        (err: Error) => `rejected: ${err.message}`,
      );
      // Plain ioredis rejects with "Connection is closed." within milliseconds here.
      expect(settled).toBe('ready');
      expect(copy.status).toBe('ready');
      console.log(
        `[in-flight] connect() settled ready ${Date.now() - started} ms after the first refused dial`,
      );
      // Once ended (closed), a waiting caller is told so rather than left hanging.
      const closed = app.clients.get().duplicate();
      const pending = closed.connect().then(
        () => 'ready',
        (err: Error) => `rejected: ${err.message}`,
      );
      closed.disconnect();
      expect(await pending).toBe('rejected: Connection is closed.');
    } finally {
      await app.moduleRef.close();
    }
  });
});
