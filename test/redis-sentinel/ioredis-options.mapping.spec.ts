import { toIoredisOptions } from '../../libs/redis-sentinel/src/ioredis-options.mapping.js';
import { resolveRedisSentinelOptions } from '../../libs/redis-sentinel/src/redis-sentinel-options.resolver.js';

const retryStrategy = (attempt: number) => attempt;
/** Stands for the SentinelMasterConnector subclass a client binds. */
const Connector = function Connector() {};

describe('toIoredisOptions (unit)', () => {
  it('standalone: host, port, TLS and credentials from the URL, the module choices, then the overrides', () => {
    const options = resolveRedisSentinelOptions(
      {
        url: 'rediss://app:pw@redis:6380/3',
        commandTimeoutMs: 1500,
        ioredis: { enableAutoPipelining: true },
      },
      { cache: { role: 'master', ioredis: { keyPrefix: 'c:' } } },
    );
    const mapped = toIoredisOptions(options, options.clients[0]!, { Connector: undefined, retryStrategy });
    expect(mapped).toMatchObject({
      host: 'redis',
      port: 6380,
      tls: {},
      username: 'app',
      password: 'pw',
      db: 3,
      lazyConnect: true,
      enableReadyCheck: true,
      connectTimeout: 2000,
      commandTimeout: 1500,
      socketTimeout: 5000,
      keepAlive: 30_000,
      maxRetriesPerRequest: 3,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: true,
      enableOfflineQueue: true,
      connectionName: 'bastion:cache',
      enableAutoPipelining: true,
      keyPrefix: 'c:',
      retryStrategy,
    });
    expect(mapped).not.toHaveProperty('Connector');
    expect(
      mapped.reconnectOnError!(new Error('READONLY You cannot write against a read only replica.')),
    ).toBe(1);
    expect(mapped.reconnectOnError!(new Error('ERR other'))).toBe(false);
  });

  it('Sentinel mode: the connector, no host or port; a client override wins over the module one', () => {
    const options = resolveRedisSentinelOptions(
      { sentinels: 's1:26379', masterName: 'm', password: 'pw', ioredis: { keyPrefix: 'module:' } },
      { default: { ioredis: { keyPrefix: 'client:' } } },
    );
    const mapped = toIoredisOptions(options, options.clients[0]!, {
      Connector: Connector as never,
      retryStrategy,
    });
    expect(mapped.Connector).toBe(Connector);
    expect(mapped).not.toHaveProperty('host');
    expect(mapped).not.toHaveProperty('tls');
    expect(mapped).toMatchObject({
      password: 'pw',
      db: 0,
      keyPrefix: 'client:',
      connectionName: 'bastion:default',
    });
  });
});
