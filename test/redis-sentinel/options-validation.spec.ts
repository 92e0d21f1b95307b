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
      'sentinels[1] is not host:port (got "nohost"); e.g. "sentinel-2:26379"',
      'sentinels[2] has no valid port, 1-65535 (got "h3:99999"); e.g. "h3:26379"',
      'ioredis.enableReadyCheck false is not allowed in Sentinel mode (the master role check runs in the ready check); remove it',
      'clients.reads is an unknown role (got "reader"); use master, replica, subscriber, e.g. "replica"',
    ]);
    expect(err.message).toMatch(/^Invalid RedisSentinelModule options:\n - /);
    expect(err.message).not.toContain('very-secret');
  });

  it('lists every problem of every kind at once, one line each, never "path:" and never a credential', async () => {
    const err = await bootError(
      {
        host: '',
        port: 70_000,
        password: 12_345_678,
        sentinelPassword: 'very-secret',
        db: -1,
        startupTimeoutMs: -5,
        failoverWatcher: 'yes',
        natMap: 5,
        ioredis: { role: 'slave' },
      },
      { clients: { default: 'master', '': 'replica' } },
    );
    expect(err.problems).toEqual([
      'host must be a non-empty string (got ""); e.g. "redis"',
      'port must be an integer between 1 and 65535 (got 70000); e.g. 6379',
      'password must be a string (it is set, of type number); e.g. the value of a secret, read with SecretsService',
      'db must be an integer >= 0 (got -1); e.g. 0',
      'natMap must be an object { "host:port": { host, port } } or a function (got 5); e.g. { "10.0.0.5:6379": { host: "redis.example", port: 6379 } }',
      'startupTimeoutMs must be an integer >= 0 (milliseconds) (got -5); e.g. 10000, or 0 to not wait',
      'failoverWatcher must be true or false (got "yes"); e.g. true',
      'ioredis.role is managed by the module; remove it and use the module options instead (sentinels, masterName, clients with their roles)',
      'clients has a client with an empty name; e.g. { default: "master" }',
    ]);
    for (const line of err.problems) expect(line).not.toMatch(/^[\w.[\]]+\s*[:=]/);
    expect(err.message).not.toContain('12345678');
    expect(err.message).not.toContain('very-secret');
  });

  it.each([
    [{ sentinels: [], masterName: 'm' }, /sentinels is empty/],
    [{ sentinels: ' , ', masterName: 'm' }, /sentinels is empty/],
    [{ sentinels: [{ host: 'h', port: 0 }], masterName: 'm' }, /has no valid port/],
    [{ sentinels: 'h:26379' }, /masterName is required in Sentinel mode/],
    [{}, /no server given/],
    [{ sentinels: 'h:26379', masterName: 'm', url: 'redis://h:6379' }, /not both/],
    [{ url: 'http://h:6379' }, /unsupported scheme/],
    [{ url: 'redis://:hunter2@' }, /url is not a valid URL|url needs a host/],
    [{ host: 'h', commandTimeoutMs: -1 }, /commandTimeoutMs must be a positive integer/],
    [
      { sentinels: 'h:26379', masterName: 'm', ioredis: { sentinels: [] } },
      /ioredis.sentinels is managed by the module/,
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
    // The resolved options sit under the module's internal token (the service keeps them private).
    expect(
      moduleRef.get<{ sentinels: unknown }>('BASTION_REDIS_SENTINEL_RESOLVED_OPTIONS').sentinels,
    ).toEqual([
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
