import { createConnection } from 'node:net';
import { NotFoundException } from '@nestjs/common';
import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import {
  durableWrite,
  isRedisUnavailableError,
  RedisConnectionLostError,
  RedisSentinelUnavailableError,
} from '@bastion/redis-sentinel';
import { freePort } from '@bastion/redis-topology';
import { useTopology } from '../support/use-topology.js';
import { PASSWORD } from './support.js';

/** The rejection of `fn()`; fails the test if it resolves. */
async function rejectionOf(fn: () => Promise<unknown>): Promise<Error> {
  const outcome = await fn().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${String(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(Error);
  return outcome.error as Error;
}

describe('isRedisUnavailableError against errors from real servers', () => {
  // One master, one replica, no Sentinel: freezing or reconfiguring a node triggers no failover.
  const topo = useTopology({ password: PASSWORD, replicas: 1, sentinels: 0 });
  const clients: Redis[] = [];

  function client(options: RedisOptions): Redis {
    const c = new Redis({ connectTimeout: 1000, commandTimeout: 3000, ...options });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  }
  const onMaster = (extra: RedisOptions = {}) => client({ ...topo.connectionOptions(topo.master), ...extra });
  const onReplica = (extra: RedisOptions = {}) =>
    client({ ...topo.connectionOptions(topo.replicas[0]!), ...extra });

  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });

  describe('counts as unavailable', () => {
    it('MaxRetriesPerRequestError (nothing listens on the port)', async () => {
      const port = await freePort();
      const redis = client({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => 50 });
      const err = await rejectionOf(() => redis.get('k'));
      expect(err.name).toBe('MaxRetriesPerRequestError');
      expect(isRedisUnavailableError(err)).toBe(true);
    });

    it("'Connection is closed.' (the client gave up reconnecting)", async () => {
      const port = await freePort();
      const redis = client({ port, host: '127.0.0.1', retryStrategy: () => null });
      const err = await rejectionOf(() => redis.get('k'));
      expect(err.message).toBe('Connection is closed.');
      expect(isRedisUnavailableError(err)).toBe(true);
    });

    it("'Stream isn't writeable ...' (not connected, offline queue off)", async () => {
      const redis = onMaster({ lazyConnect: true, enableOfflineQueue: false });
      const err = await rejectionOf(() => redis.get('k'));
      expect(err.message).toBe("Stream isn't writeable and enableOfflineQueue options is false");
      expect(isRedisUnavailableError(err)).toBe(true);
    });

    it("'Command timed out' (commandTimeout on a SIGSTOP-frozen server)", async () => {
      const replica = topo.replicas[0]!;
      const redis = onReplica({ commandTimeout: 200 });
      await redis.ping();
      topo.freeze(replica);
      try {
        const err = await rejectionOf(() => redis.get('k'));
        expect(err.message).toBe('Command timed out');
        expect(isRedisUnavailableError(err)).toBe(true);
      } finally {
        topo.thaw(replica);
      }
    });

    it('READONLY, and EXECABORT of a MULTI whose writes a replica refused', async () => {
      const redis = onReplica();
      const readonly = await rejectionOf(() => redis.set('k', 'v'));
      expect(readonly.message).toMatch(/^READONLY /);
      expect(isRedisUnavailableError(readonly)).toBe(true);

      const execAbort = await rejectionOf(() => redis.multi().set('k', 'v').exec());
      expect(execAbort.message).toMatch(/^EXECABORT /);
      expect(isRedisUnavailableError(execAbort)).toBe(true);
    });

    it('NOREPLICAS (min-replicas-to-write not met)', async () => {
      const redis = onMaster();
      await redis.config('SET', 'min-replicas-to-write', '5');
      try {
        const err = await rejectionOf(() => redis.set('k', 'v'));
        expect(err.message).toMatch(/^NOREPLICAS /);
        expect(isRedisUnavailableError(err)).toBe(true);
      } finally {
        await redis.config('SET', 'min-replicas-to-write', '0');
      }
    });

    it('MASTERDOWN (a replica whose master link is down, serve-stale-data off)', async () => {
      const replica = onReplica();
      const deadPort = await freePort();
      await replica.config('SET', 'replica-serve-stale-data', 'no');
      await replica.call('REPLICAOF', '127.0.0.1', String(deadPort));
      try {
        const err = await rejectionOf(() => replica.get('k'));
        expect(err.message).toMatch(/^MASTERDOWN /);
        expect(isRedisUnavailableError(err)).toBe(true);
      } finally {
        await replica.call('REPLICAOF', '127.0.0.1', String(topo.master.port));
        await replica.config('SET', 'replica-serve-stale-data', 'yes');
      }
    });

    it('UNBLOCKED (a blocking command cut short by the server)', async () => {
      const blocked = onMaster();
      const id = await blocked.client('ID');
      const pending = rejectionOf(() => blocked.blpop('unblocked:list', 5));
      const admin = onMaster();
      await vi.waitFor(
        async () =>
          expect((await admin.client('UNBLOCK', id, 'ERROR')) === 1, 'the BLPOP is blocked').toBe(true),
        { timeout: 5000, interval: 20 },
      );
      const err = await pending;
      expect(err.message).toMatch(/^UNBLOCKED /);
      expect(isRedisUnavailableError(err)).toBe(true);
    });

    it('AbortError of a pipeline half answered when the connection dropped', async () => {
      const redis = onMaster();
      await redis.ping();
      const pipeline = redis.pipeline().set('abort:k', '1').blpop('abort:list', 2).get('abort:k').exec();
      await vi.waitFor(
        async () => expect((await onMaster().get('abort:k')) === '1', 'the SET was answered').toBe(true),
        { timeout: 5000, interval: 20 },
      );
      (redis as unknown as { stream: { destroy(): void } }).stream.destroy();
      const replies = (await pipeline)!;
      const err = replies[1]![0]!;
      expect(err.name).toBe('AbortError');
      expect(isRedisUnavailableError(err)).toBe(true);
    });

    it('DurableWriteError (fewer replicas acknowledged than required)', async () => {
      const err = await rejectionOf(() =>
        durableWrite(onMaster(), (p) => p.set('durable:k', '1'), { replicas: 3, timeoutMs: 50 }),
      );
      expect(err.name).toBe('DurableWriteError');
      expect(isRedisUnavailableError(err)).toBe(true);
    });

    it('a Node socket error (ECONNREFUSED) and the module’s own outage errors', async () => {
      const port = await freePort();
      const refused = await new Promise<Error>((resolve) =>
        createConnection({ host: '127.0.0.1', port }).once('error', resolve),
      );
      expect((refused as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
      expect(isRedisUnavailableError(refused)).toBe(true);
      expect(isRedisUnavailableError(new RedisConnectionLostError('default', 'set', '127.0.0.1:1'))).toBe(
        true,
      );
      expect(isRedisUnavailableError(new RedisSentinelUnavailableError('mymaster', ['127.0.0.1:1']))).toBe(
        true,
      );
    });

    it('LOADING and TRYAGAIN replies (not reproducible on demand: built as ioredis builds them)', () => {
      expect(isRedisUnavailableError(new ReplyError('LOADING Redis is loading the dataset in memory'))).toBe(
        true,
      );
      expect(
        isRedisUnavailableError(new ReplyError('TRYAGAIN Multiple keys request during rehashing of slot')),
      ).toBe(true);
    });
  });

  describe('does not count', () => {
    it('real Redis answers about the request itself', async () => {
      const redis = onMaster();
      await redis.set('wrongtype:k', 'v');
      const wrongType = await rejectionOf(() => redis.lpush('wrongtype:k', 'x'));
      expect(wrongType.message).toMatch(/^WRONGTYPE /);
      expect(isRedisUnavailableError(wrongType)).toBe(false);
      const unknown = await rejectionOf(() => redis.call('NOSUCHCOMMAND'));
      expect(isRedisUnavailableError(unknown)).toBe(false);
    });

    it('application errors that merely mention a timeout or a connection', () => {
      expect(isRedisUnavailableError(new Error('payment service timeout'))).toBe(false);
      expect(isRedisUnavailableError(new Error('Command timed out after 5 s (our own RPC)'))).toBe(false);
      expect(isRedisUnavailableError(new Error('Connection is closed by the upstream API'))).toBe(false);
      expect(isRedisUnavailableError(new TypeError('Command timed out'))).toBe(false);
      expect(isRedisUnavailableError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(
        false,
      );
      expect(isRedisUnavailableError(new Error('READONLY mode of our CMS'))).toBe(false);
      expect(isRedisUnavailableError(new NotFoundException('nope'))).toBe(false);
      for (const value of [undefined, null, 'Command timed out', 42, {}]) {
        expect(isRedisUnavailableError(value)).toBe(false);
      }
    });
  });
});
