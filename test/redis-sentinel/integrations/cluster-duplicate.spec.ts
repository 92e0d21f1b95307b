/**
 * `cluster.duplicate()` of a RedisClusterModule client against a real Redis Cluster: the copy is
 * a managed client of its own (blocking-safe settings, the module's failover following), is
 * closed at shutdown, leaves the stats when its user quits it, and follows a SIGKILL failover.
 */
import type { Cluster } from 'ioredis';
import { RedisClusterEvents } from '@bastion/redis-sentinel';
import type { RedisClusterNode } from '@bastion/redis-topology';
import { settle } from '../../support/settle.js';
import { useCluster } from '../../support/use-cluster.js';
import { openHandles, waitForHandlesBack } from '../support.js';
import { CLUSTER_PASSWORD, clusterOptions, keyPerMaster, startClusterModule } from '../cluster-support.js';

describe('cluster.duplicate() of a RedisClusterModule client', () => {
  const cluster = useCluster({ password: CLUSTER_PASSWORD });

  it('has blocking-safe node settings, takes BullMQ-style overrides, refuses the managed keys', async () => {
    const app = await startClusterModule(clusterOptions(cluster, { commandTimeoutMs: 500 }));
    try {
      const redis = app.clients.get();
      expect(redis.options.redisOptions).toMatchObject({ commandTimeout: 500, maxRetriesPerRequest: 3 });

      const dup = redis.duplicate();
      expect(dup).not.toBe(redis);
      expect(dup.options.redisOptions?.commandTimeout).toBeUndefined();
      expect(dup.options.redisOptions?.maxRetriesPerRequest).toBeNull();
      expect(dup.options.redisOptions?.socketTimeout).toBeGreaterThanOrEqual(15_000);
      expect(dup.options.redisOptions?.connectionName).toBe('bastion:default#1');
      // Lazy like every module client; a block longer than the module's 500 ms deadline is not cut.
      expect(await dup.bzpopmin('dup:none', 1)).toBeNull();
      expect(app.clients.stats().duplicates).toEqual([
        expect.objectContaining({ name: 'default#1', status: 'ready' }),
      ]);

      // What BullMQ passes: the parent's redisOptions back, with its own connection name. The
      // parent's values are no change; the copy keeps its blocking-safe settings.
      const bull = redis.duplicate(undefined, {
        redisOptions: { ...redis.options.redisOptions, connectionName: 'bull:worker' },
      });
      expect(bull.options.redisOptions).toMatchObject({
        connectionName: 'bull:worker',
        maxRetriesPerRequest: null,
      });
      expect(bull.options.redisOptions?.commandTimeout).toBeUndefined();

      // A real change wins: that copy's deadline cuts a longer block.
      const tuned = redis.duplicate([], { redisOptions: { commandTimeout: 300 } });
      await expect(tuned.blpop('dup:never', 5)).rejects.toThrow(/timed out/i);

      expect(() => redis.duplicate([{ host: '127.0.0.1', port: 1 }])).toThrow(
        /startup nodes cannot be overridden/,
      );
      expect(() => redis.duplicate([], { scaleReads: 'all' })).toThrow(/scaleReads cannot be overridden/);
      expect(() => redis.duplicate([], { redisOptions: { password: 'other' } })).toThrow(
        /redisOptions.password cannot be overridden/,
      );
    } finally {
      await app.moduleRef.close();
    }
  });

  it('closes its copies at shutdown (a blocked one too), bounded, with no leaked socket or timer, and refuses new ones', async () => {
    const before = openHandles();
    const app = await startClusterModule(clusterOptions(cluster, { shutdownTimeoutMs: 500 }));
    const redis = app.clients.get();
    const idle = redis.duplicate();
    const blocked = redis.duplicate();
    await Promise.all([idle.ping(), blocked.ping()]);
    const waiting = settle(blocked.blpop('dup:shutdown', 0));
    expect(app.clients.stats().duplicates.map((d) => d.status)).toEqual(['ready', 'ready']);

    const t0 = Date.now();
    await app.moduleRef.close();
    expect(Date.now() - t0, 'shutdown bounded by shutdownTimeoutMs').toBeLessThan(1500);
    await vi.waitFor(() => expect([idle.status, blocked.status]).toEqual(['end', 'end']), {
      timeout: 3000,
      interval: 10,
    });
    expect((await waiting).error).toBeInstanceOf(Error);
    expect(() => redis.duplicate()).toThrow(/module has shut down/);
    expect(app.clients.stats().duplicates).toEqual([]);
    await waitForHandlesBack(before);
  });

  it('follows a SIGKILL of the shard master: a block lost with it is rejected, a later one is served by the promoted replica; a quit copy stays gone', async () => {
    const app = await startClusterModule(clusterOptions(cluster, { commandTimeoutMs: 3000 }));
    const redis = app.clients.get();
    const [{ key: rawKey, master: victim }] = await keyPerMaster(cluster, 'dupkill:');
    const key = rawKey!;
    const zset: Cluster = redis.duplicate();
    const quitter: Cluster = redis.duplicate();
    try {
      await Promise.all([zset.ping(), quitter.ping()]);
      await quitter.quit();
      await vi.waitFor(() => expect(quitter.status).toBe('end'), { timeout: 3000, interval: 10 });
      expect(app.clients.stats().duplicates.map((d) => d.name)).toEqual(['default#1']);

      const first = settle(zset.bzpopmin(key, 0));
      await vi.waitFor(
        async () => expect(await cluster.command(victim!, 'CLIENT', 'LIST')).toContain('cmd=bzpopmin'),
        {
          timeout: 3000,
          interval: 20,
        },
      );
      await cluster.kill(victim!);
      // The connection carrying the block died with the master: rejected, never resent.
      expect((await first).error).toMatchObject({ message: expect.stringMatching(/Connection is closed/) });
      // Re-issued during the election: it may still meet the dead connection (rejected again,
      // never resent) or CLUSTERDOWN past its retry window; once it reaches a live master it waits
      // there (no command deadline on a copy) and the promoted replica serves it.
      const second = settle(zset.bzpopmin(key, 0));
      const promoted = await cluster.waitForPromotion(victim!);
      await vi.waitFor(async () => expect(await redis.zadd(key, 1, 'after')).toBe(1), {
        timeout: 10_000,
        interval: 50,
      });
      const popped = await second;
      console.log(
        `[cluster duplicate] block re-issued during the election: ${popped.error ? `rejected (${(popped.error as Error).message}), sent again` : 'served on the promoted replica'}`,
      );
      // A block sent before the copy saw the promotion may meet CLUSTERDOWN past its retry window.
      if (popped.error) expect(await zset.bzpopmin(key, 0)).toEqual([key, 'after', '1']);
      else expect(popped.value).toEqual([key, 'after', '1']);
      expect(app.clients.stats().duplicates).toEqual([
        expect.objectContaining({ name: 'default#1', status: 'ready' }),
      ]);
      // The copy is on the promoted master: its connection there carries its name.
      const names = await cluster.command(promoted, 'CLIENT', 'LIST');
      expect(names).toContain('name=bastion:default#1');
      expect(names).not.toContain('name=bastion:default#2');
      expect(quitter.status).toBe('end');
    } finally {
      await app.moduleRef.close();
    }
  });

  it('leaves a frozen master (SIGSTOP) once its parent has seen the promotion, long before its 15 s socket deadline', async () => {
    // No periodic refresh within the test: only what the parent learns can move the copy.
    const app = await startClusterModule(
      clusterOptions(cluster, { commandTimeoutMs: 1000, slotsRefreshIntervalMs: 60_000 }),
    );
    const redis = app.clients.get();
    // The previous test killed one shard's master (its promoted replica has none left): freeze
    // the master of a shard that still has a replica to promote.
    let target: { key: string; master: RedisClusterNode } | undefined;
    for (const k of await keyPerMaster(cluster, 'dupfreeze:')) {
      if (!target && (await cluster.replicasOf(k.master)).length > 0) target = k;
    }
    const { key, master: frozen } = target!;
    const dup: Cluster = redis.duplicate();
    const moves: number[] = [];
    app.moduleRef.get(RedisClusterEvents).on('slot-owner-change', () => moves.push(Date.now()));
    const load = { running: true };
    try {
      await dup.ping();
      const blocked = settle(dup.bzpopmin(key, 0));
      await vi.waitFor(
        async () => expect(await cluster.command(frozen, 'CLIENT', 'LIST')).toContain('cmd=bzpopmin'),
        { timeout: 3000, interval: 20 },
      );
      cluster.freeze(frozen);
      // The parent writes to the frozen shard: its timeouts start its fast slot refresh.
      const writes = (async () => {
        while (load.running) await redis.incr(key + ':n').catch(() => undefined);
      })();
      const promoted = await cluster.waitForPromotion(frozen);
      const promotedAt = Date.now();
      // The block was on the frozen node's connection: rejected when the copy drops that node.
      expect((await blocked).error).toBeInstanceOf(Error);
      const leftAfter = Date.now() - promotedAt;
      load.running = false;
      await writes;
      console.log(
        `[cluster duplicate] copy left the frozen master ${leftAfter} ms after the harness saw the promotion (parent's first slot-owner-change ${moves[0]! - promotedAt} ms)`,
      );
      expect(leftAfter).toBeLessThan(5000);
      const pop = dup.bzpopmin(key, 0);
      await vi.waitFor(async () => expect(await redis.zadd(key, 1, 'thawed-not')).toBe(1), {
        timeout: 10_000,
        interval: 50,
      });
      expect(await pop).toEqual([key, 'thawed-not', '1']);
      expect(await cluster.command(promoted, 'CLIENT', 'LIST')).toContain('name=bastion:default#1');
      expect(frozen.stopped).toBe(true);
    } finally {
      load.running = false;
      cluster.thaw(frozen);
      await app.moduleRef.close();
    }
  });
});
