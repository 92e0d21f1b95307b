import { Test } from '@nestjs/testing';
import { RedisClusterModule, RedisSentinelConfigError } from '@bastion/redis-sentinel';

async function bootError(options: object, extras: object = {}): Promise<RedisSentinelConfigError> {
  const err = await Test.createTestingModule({
    imports: [RedisClusterModule.forRoot({ ...options, ...extras })],
  })
    .compile()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(RedisSentinelConfigError);
  return err as RedisSentinelConfigError;
}

describe('RedisClusterModule option validation (one clear error at boot, no server needed)', () => {
  it('lists every problem at once, one line each, and never shows the password', async () => {
    const err = await bootError(
      {
        nodes: 'r1:7000,nohost,r3:99999',
        password: 'very-secret-cluster-pw',
        commandTimeoutMs: 0,
        failoverRefreshIntervalMs: 'fast',
        slotsRefreshTimeoutMs: -1,
        natMap: 5,
        ioredis: {
          scaleReads: 'all',
          retryDelayOnFailover: 100,
          redisOptions: { autoResendUnfulfilledCommands: true },
        },
      },
      { clients: { default: 'master', events: 'subscriber' } },
    );
    expect(err.problems).toEqual([
      'nodes[1] is not host:port (got "nohost"); e.g. "redis-2:7000"',
      'nodes[2] has no valid port, 1-65535 (got "r3:99999"); e.g. "r3:7000"',
      'natMap must be an object { "host:port": { host, port } } or a function (got 5); e.g. { "10.0.0.5:7000": { host: "redis-1.example", port: 7000 } }',
      'commandTimeoutMs must be a positive integer (milliseconds) (got 0); e.g. 2000',
      'slotsRefreshTimeoutMs must be a positive integer (milliseconds) (got -1); e.g. 1000',
      'failoverRefreshIntervalMs must be a positive integer (milliseconds) (got "fast"); e.g. 50',
      'ioredis.scaleReads is managed by the module; remove it and use the client role ("master" or "replica")',
      'ioredis.retryDelayOnFailover is managed by the module; remove it and use nothing: a command lost with its connection may have been applied and is never resent',
      'ioredis.redisOptions.autoResendUnfulfilledCommands is managed by the module; remove it and use nothing: a command lost with its connection may have been applied and is never resent',
      'clients.events is an unknown role in Cluster mode (got "subscriber"); use master, replica, e.g. "replica"',
    ]);
    expect(err.message).toMatch(/^Invalid RedisClusterModule options:\n - /);
    expect(err.message).not.toContain('very-secret-cluster-pw');
  });

  it('requires the seed nodes, and refuses a password of the wrong type without showing it', async () => {
    const err = await bootError({ password: 12_345_678 });
    expect(err.problems).toEqual([
      'nodes is required: the seed nodes of the cluster; e.g. { nodes: "redis-1:7000,redis-2:7000,redis-3:7000" }',
      'password must be a string (it is set, of type number); e.g. the value of a secret, read with SecretsService',
    ]);
    expect(err.message).not.toContain('12345678');
  });

  it('refuses an empty seed list and a bad connectionName', async () => {
    expect((await bootError({ nodes: ' , ' })).problems).toEqual([
      'nodes is empty; give at least one "host:port" (three or more in production), e.g. "redis-1:7000,redis-2:7000,redis-3:7000"',
    ]);
    expect(() => RedisClusterModule.forRoot({ nodes: 'r:7000', connectionName: 'a:b' })).toThrow(
      RedisSentinelConfigError,
    );
  });
});
