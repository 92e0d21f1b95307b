import type { Redis } from 'ioredis';
import { DurableWriteError, RedisConnectionLostError, durableWrite } from '@bastion/redis-sentinel';
import { useTopology } from '../support/use-topology.js';
import { PROTECTED_TOPOLOGY, sentinelOptions, startModule, watchSwitchMaster } from './support.js';

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
      await vi.waitFor(() => expect(observer.switches.length).toBeGreaterThan(0), {
        timeout: 20_000,
        interval: 20,
      });
      expect(await pop).toEqual({ error: RedisConnectionLostError.name });
      const [[pipelineError]] = ((await pipelined) as { value: [[Error | null, unknown]] }).value;
      expect(pipelineError).toBeInstanceOf(RedisConnectionLostError);

      // The XREAD waits on the new master: an entry added there reaches it.
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

  it('durable writes are refused while no Sentinel connection is live, and accepted again once one is', async () => {
    const app = await startModule(sentinelOptions(topo));
    const redis: Redis = app.clients.get();
    try {
      await durableWrite(redis, (p) => p.set('watched', '1'));
      for (const s of topo.sentinels) await topo.kill(s);
      // The master still serves plain commands, but a failover could now run unseen.
      await vi.waitFor(
        async () => {
          const error = await durableWrite(redis, (p) => p.set('watched', '2')).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(DurableWriteError);
          expect((error as Error).message).toMatch(/no Sentinel connection is live/);
        },
        { timeout: 5000, interval: 20 },
      );
      expect(await redis.set('watched', '3')).toBe('OK');
      expect(await redis.get('watched')).toBe('3');

      const restarted = Date.now();
      for (const s of topo.sentinels) await topo.restart(s);
      await vi.waitFor(
        async () => expect(await durableWrite(redis, (p) => p.set('watched', '4'))).toEqual(['OK']),
        {
          timeout: 5000,
          interval: 20,
        },
      );
      console.log(
        `[in-flight] durable writes accepted ${Date.now() - restarted} ms after the Sentinels restarted`,
      );
    } finally {
      await app.moduleRef.close();
    }
  });
});
