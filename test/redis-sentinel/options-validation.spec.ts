import { Test } from '@nestjs/testing';
import { RedisClientsService, RedisSentinelConfigError, RedisSentinelModule } from '@bastion/redis-sentinel';

async function bootError(options: object, extras: object = {}): Promise<RedisSentinelConfigError> {
  const err = await Test.createTestingModule({
    imports: [RedisSentinelModule.forRoot({ ...options, ...extras })],
  })
    .compile()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(RedisSentinelConfigError);
  return err as RedisSentinelConfigError;
}

describe('option validation (one clear error at boot)', () => {
  it('lists every problem at once: bad host:port, unknown role, enableReadyCheck false', async () => {
    const err = await bootError(
      {
        sentinels: 'h1:26379,nohost,h3:99999',
        masterName: 'mymaster',
        sentinelPassword: 'very-secret',
        ioredis: { enableReadyCheck: false },
      },
      { clients: { default: 'master', reads: 'reader' } },
    );
    expect(err.problems).toEqual([
      'sentinels: "nohost" is not a valid "host:port"',
      'sentinels: "h3:99999" has no valid port (1-65535)',
      'ioredis.enableReadyCheck: false is not allowed in Sentinel mode (the master role check runs in the ready check)',
      'clients.reads: unknown role "reader" (use master, replica, subscriber)',
    ]);
    expect(err.message).toMatch(/^Invalid RedisSentinelModule options:\n - /);
    expect(err.message).not.toContain('very-secret');
  });

  it.each([
    [{ sentinels: [], masterName: 'm' }, /sentinels: the list is empty/],
    [{ sentinels: ' , ', masterName: 'm' }, /sentinels: the list is empty/],
    [{ sentinels: [{ host: 'h', port: 0 }], masterName: 'm' }, /has no valid port/],
    [{ sentinels: 'h:26379' }, /masterName: required in Sentinel mode/],
    [{}, /no server given/],
    [{ sentinels: 'h:26379', masterName: 'm', url: 'redis://h:6379' }, /not both/],
    [{ url: 'http://h:6379' }, /unsupported scheme/],
    [{ url: 'redis://:hunter2@' }, /url: not a valid URL|needs a host/],
    [{ host: 'h', commandTimeoutMs: -1 }, /commandTimeoutMs: must be a positive integer/],
    [
      { sentinels: 'h:26379', masterName: 'm', ioredis: { sentinels: [] } },
      /ioredis.sentinels: managed by the module/,
    ],
  ])('rejects %j', async (options, message) => {
    const err = await bootError(options);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('hunter2');
  });

  it('accepts "h1:p1,h2:p2", IPv6 and arrays, and opens no socket while compiling', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisSentinelModule.forRoot({
          sentinels: '127.0.0.1:1, [::1]:2',
          masterName: 'm',
          clients: { default: 'master', reads: { role: 'replica' } },
        }),
      ],
    }).compile();
    const clients = moduleRef.get(RedisClientsService);
    expect(clients.options.sentinels).toEqual([
      { host: '127.0.0.1', port: 1 },
      { host: '::1', port: 2 },
    ]);
    expect(clients.names()).toEqual(['default', 'reads']);
    expect(clients.stats().clients.map((c) => c.status)).toEqual(['wait', 'wait']);
    await moduleRef.close();
  });

  it('fails startup with a clear error within startupTimeoutMs when no Sentinel answers', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisSentinelModule.forRoot({
          sentinels: '127.0.0.1:1',
          masterName: 'mymaster',
          startupTimeoutMs: 500,
        }),
      ],
    }).compile();
    const started = Date.now();
    const err = await moduleRef.init().catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect((err as Error).message).toMatch(
      /startup failed:\n - Redis client "default" not ready within 500 ms/,
    );
    expect((err as Error).message).toMatch(
      /no Sentinel named the master "mymaster"\n - Sentinel 127\.0\.0\.1:1: connect ECONNREFUSED/,
    );
    expect(moduleRef.get(RedisClientsService).stats().clients[0]!.status).toBe('end');
  });
});
