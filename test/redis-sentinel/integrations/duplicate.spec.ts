/**
 * `redis.duplicate()` of a module client against a real Sentinel topology: the copy follows a
 * failover, is closed at shutdown, leaves when its user quits it, keeps its blocking-safe
 * defaults, and (unlike ioredis's own `duplicate()`) never steers its parent.
 */
import { Redis } from 'ioredis';
import { RedisConnectionLostError } from '@bastion/redis-sentinel';
import type { RedisTopology } from '@bastion/redis-topology';
import { settle } from '../../support/settle.js';
import { useTopology } from '../../support/use-topology.js';
import {
  openHandles,
  PROTECTED_TOPOLOGY,
  sentinelOptions,
  startModule,
  waitForHandlesBack,
  waitForSyncedMaster,
  watchSwitchMaster,
} from '../support.js';

/** Names of the module's connections (`bastion:<client>`) open on a data node. */
async function bastionConnections(topo: RedisTopology, port: number): Promise<string[]> {
  const list = await topo.command(topo.nodeByPort(port), 'CLIENT', 'LIST');
  return list
    .split('\n')
    .map((line) => /name=(\S*)/.exec(line)?.[1])
    .filter((name): name is string => !!name?.startsWith('bastion:'));
}

/** `CLIENT KILL ID` of the connection `client` currently holds: only that client reconnects. */
async function killConnectionOf(topo: RedisTopology, client: Redis): Promise<void> {
  const id = (await client.client('ID')) as number;
  const port = (await topo.currentMasterPort())!;
  await topo.command(topo.nodeByPort(port), 'CLIENT', 'KILL', 'ID', id);
}

describe('redis.duplicate() of a module client', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it('has blocking-safe defaults visible in dup.options, an override wins, and the managed keys are refused', async () => {
    const app = await startModule(sentinelOptions(topo, { commandTimeoutMs: 1500, socketTimeoutMs: 4000 }));
    try {
      const redis = app.clients.get();
      expect(redis.options).toMatchObject({
        commandTimeout: 1500,
        maxRetriesPerRequest: 3,
        socketTimeout: 4000,
      });

      const dup = redis.duplicate();
      expect(dup).not.toBe(redis);
      expect(dup.options.commandTimeout).toBeUndefined();
      expect(dup.options.maxRetriesPerRequest).toBeNull();
      expect(dup.options.socketTimeout).toBeGreaterThanOrEqual(15_000);
      // Still the module's client: its own connection name, its own Sentinel connector.
      expect(dup.options.connectionName).toBe('bastion:default#1');
      expect(dup.options.Connector).toBeDefined();
      expect(dup.options.Connector).not.toBe(redis.options.Connector);

      const tuned = redis.duplicate({ commandTimeout: 300, maxRetriesPerRequest: 0, socketTimeout: 20_000 });
      expect(tuned.options).toMatchObject({
        commandTimeout: 300,
        maxRetriesPerRequest: 0,
        socketTimeout: 20_000,
      });
      // The override applied to that copy only.
      expect(redis.duplicate().options.commandTimeout).toBeUndefined();

      expect(() => redis.duplicate({ sentinels: [{ host: '127.0.0.1', port: 1 }] })).toThrow(TypeError);
      expect(() => redis.duplicate({ sentinels: [] })).toThrow(/sentinels cannot be overridden/);
      expect(() =>
        redis.duplicate({
          Connector: redis.options.Connector,
        }),
      ).toThrow(TypeError);
      expect(() => redis.duplicate({ Connector: undefined })).toThrow(/Connector cannot be overridden/);
      // The resolver's rule for a client's own options: the role check runs in the ready check.
      expect(() => redis.duplicate({ enableReadyCheck: false })).toThrow(/enableReadyCheck: false cannot/);
      // ioredis's monitor() duplicates with lazyConnect: false; the copy connects on its first command.
      const monitor = await redis.monitor();
      const seen: string[] = [];
      monitor.on('monitor', (_time: string, args: string[]) => seen.push(args.join(' ')));
      await redis.set('dup:monitored', '1');
      await vi.waitFor(() => expect(seen).toContain('set dup:monitored 1'), { timeout: 5000, interval: 20 });
      monitor.disconnect();

      // Lazy like every module client: the first command connects it.
      await dup.ping();
      expect(app.clients.stats().duplicates).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'default#1', status: 'ready' })]),
      );
      // The tuned copy's deadline applies: BLPOP that waits longer than 300 ms is cut.
      await expect(tuned.blpop('dup:never', 5)).rejects.toThrow(/timed out/i);
    } finally {
      await app.moduleRef.close();
    }
  });

  it('a reconnect of the duplicate does not disturb its parent (ioredis duplicate() would)', async () => {
    const app = await startModule(sentinelOptions(topo));
    try {
      const redis = app.clients.get();
      const parentBefore = app.clients.stats().clients[0]!;
      expect(parentBefore).toMatchObject({ status: 'ready', reconnects: 0, readyCount: 1 });

      // ioredis's own duplicate copies the options: the retry strategy and Connector of THIS
      // client. A reconnect of that copy is counted (and steered) as the parent's.
      const raw = Redis.prototype.duplicate.call(redis);
      try {
        raw.on('error', () => undefined);
        await raw.ping();
        await killConnectionOf(topo, raw);
        await vi.waitFor(
          () =>
            expect(app.clients.stats().clients[0]!.reconnects, "the raw copy used the parent's retry").toBe(
              1,
            ),
          { timeout: 5000, interval: 20 },
        );
        await vi.waitFor(() => expect(raw.status).toBe('ready'), { timeout: 5000, interval: 20 });
      } finally {
        raw.disconnect();
      }

      // The module's duplicate has its own state: its reconnect is its own.
      const parentMid = app.clients.stats().clients[0]!;
      const dup = redis.duplicate();
      await dup.ping();
      await killConnectionOf(topo, dup);
      await vi.waitFor(
        () =>
          expect(app.clients.stats().duplicates[0], 'the duplicate reconnected').toMatchObject({
            status: 'ready',
            reconnects: 1,
            readyCount: 2,
          }),
        { timeout: 5000, interval: 20 },
      );
      expect(app.clients.stats().clients[0]).toMatchObject({
        status: 'ready',
        reconnects: parentMid.reconnects,
        readyCount: parentMid.readyCount,
        address: parentBefore.address,
      });
      expect(await redis.ping()).toBe('PONG');
      expect(await dup.ping()).toBe('PONG');
    } finally {
      await app.moduleRef.close();
    }
  });

  it('closes its duplicates at module shutdown (a blocked one too) with no leaked socket or timer, and refuses new ones', async () => {
    const before = openHandles();
    const app = await startModule(sentinelOptions(topo, { shutdownTimeoutMs: 500 }));
    const redis = app.clients.get();
    const idle = redis.duplicate();
    const blocked = redis.duplicate();
    await Promise.all([idle.ping(), blocked.ping()]);
    const waiting = blocked.blpop('dup:shutdown', 0).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    expect(openHandles().sockets).toBeGreaterThan(before.sockets);
    expect(app.clients.stats().duplicates.map((d) => d.status)).toEqual(['ready', 'ready']);

    const t0 = Date.now();
    await app.moduleRef.close();
    expect(Date.now() - t0, 'shutdown bounded by shutdownTimeoutMs').toBeLessThan(1500);
    await vi.waitFor(() => expect([idle.status, blocked.status]).toEqual(['end', 'end']), {
      timeout: 3000,
      interval: 10,
    });
    expect(await waiting).toHaveProperty('error');
    expect(() => redis.duplicate()).toThrow(/module has shut down/);
    await waitForHandlesBack(before);
  });

  it('follows a SIGKILL failover (a blocking pop waits on the new master), the parent too, and a quit copy stays gone', async () => {
    const oldPort = await waitForSyncedMaster(topo, 2);
    const oldMaster = topo.nodeByPort(oldPort);
    const observer = await watchSwitchMaster(topo);
    const app = await startModule(sentinelOptions(topo));
    const redis = app.clients.get();
    const list = redis.duplicate();
    const zset = redis.duplicate();
    const quitter = redis.duplicate();
    try {
      await Promise.all([list.ping(), zset.ping(), quitter.ping()]);
      expect(app.clients.stats().duplicates.map((d) => d.name)).toEqual([
        'default#1',
        'default#2',
        'default#3',
      ]);

      // The user quits one copy: it leaves the stats and stops following failovers.
      await quitter.quit();
      await vi.waitFor(() => expect(quitter.status).toBe('end'), { timeout: 3000, interval: 10 });
      expect(app.clients.stats().duplicates.map((d) => d.name)).toEqual(['default#1', 'default#2']);

      const firstPop = settle(list.blpop('dup:jobs', 0));
      const firstZPop = settle(zset.bzpopmin('dup:prio', 0));
      await topo.kill(oldMaster);
      // The connection carrying each block died with the master: the block is rejected, never
      // silently resent (it may have been served already).
      const [pop, zpop] = await Promise.all([firstPop, firstZPop]);
      expect(pop.error).toBeInstanceOf(RedisConnectionLostError);
      expect(zpop.error).toBeInstanceOf(RedisConnectionLostError);
      // Re-issued during the failover: they wait for the new master (maxRetriesPerRequest: null).
      const secondPop = list.blpop('dup:jobs', 0);
      const secondZPop = zset.bzpopmin('dup:prio', 0);

      await observer.firstSwitch();
      const { at: switchAt, to: newPort } = observer.switches[0]!;
      const newAddress = `127.0.0.1:${newPort}`;
      await vi.waitFor(
        () =>
          expect(
            app.clients.stats().duplicates.map((d) => `${d.status} ${d.address}`),
            'both copies ready on the new master',
          ).toEqual([`ready ${newAddress}`, `ready ${newAddress}`]),
        { timeout: 10_000, interval: 10 },
      );
      const readyAfter = Date.now() - switchAt;
      // Pushed through the parent, which is on the new master as well.
      await vi.waitFor(
        async () => expect(await redis.rpush('dup:jobs', 'after-failover')).toBeGreaterThan(0),
        {
          timeout: 10_000,
          interval: 20,
        },
      );
      await redis.zadd('dup:prio', 1, 'p1');
      expect(await secondPop).toEqual(['dup:jobs', 'after-failover']);
      expect(await secondZPop).toEqual(['dup:prio', 'p1', '1']);
      console.log(`[duplicate] copies ready on the new master ${readyAfter} ms after +switch-master`);

      expect(app.clients.stats().clients[0]).toMatchObject({ status: 'ready', address: newAddress });
      expect(app.clients.stats().currentMaster).toBe(newAddress);
      // The quit copy did not come back: only the parent and the two live copies are on the new master.
      expect(quitter.status).toBe('end');
      expect((await bastionConnections(topo, newPort)).toSorted()).toEqual([
        'bastion:default',
        'bastion:default#1',
        'bastion:default#2',
      ]);
      expect(app.clients.stats().duplicates.map((d) => d.name)).toEqual(['default#1', 'default#2']);
    } finally {
      observer.close();
      await app.moduleRef.close();
      await topo.restart(oldMaster);
    }
  });
  it('leaves a frozen master (SIGSTOP) on +switch-master, long before its 15 s socket deadline', async () => {
    // The previous test restarted its killed master: it must be a synced replica again.
    const oldPort = await waitForSyncedMaster(topo, 2);
    const observer = await watchSwitchMaster(topo);
    const app = await startModule(sentinelOptions(topo));
    const redis = app.clients.get();
    const dup = redis.duplicate();
    const frozen = topo.nodeByPort(oldPort);
    try {
      await dup.ping();
      const blocked = dup.blpop('dup:frozen', 0).then(
        () => undefined,
        (error: unknown) => error,
      );
      topo.freeze(frozen);
      await observer.firstSwitch();
      const { at: switchAt, to: newPort } = observer.switches[0]!;
      // The socket to the frozen node never closes by itself: the copy drops it on the switch.
      expect(await blocked).toBeInstanceOf(RedisConnectionLostError);
      await vi.waitFor(
        () =>
          expect(app.clients.stats().duplicates[0]).toMatchObject({
            status: 'ready',
            address: `127.0.0.1:${newPort}`,
          }),
        { timeout: 10_000, interval: 10 },
      );
      const movedAfter = Date.now() - switchAt;
      console.log(`[duplicate] copy left the frozen master ${movedAfter} ms after +switch-master`);
      // Without the failover watcher the copy would wait for its socket deadline (>= 15 s).
      expect(movedAfter).toBeLessThan(5000);
      expect(frozen.stopped).toBe(true);
      const pop = dup.blpop('dup:frozen', 0);
      await redis.rpush('dup:frozen', 'on-new-master');
      expect(await pop).toEqual(['dup:frozen', 'on-new-master']);
      expect(app.clients.stats().clients[0]).toMatchObject({
        status: 'ready',
        address: `127.0.0.1:${newPort}`,
      });
    } finally {
      observer.close();
      await app.moduleRef.close();
      topo.thaw(frozen);
    }
  });
});
