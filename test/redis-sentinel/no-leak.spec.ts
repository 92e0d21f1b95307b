import { inspect } from 'node:util';
import {
  durableWrite,
  RedisConnectionLostError,
  RedisSentinelConfigError,
  RedisSentinelEvents,
  RedisSentinelHealthIndicator,
  RedisSentinelModule,
  RedisSentinelStartupError,
  RedisSentinelUnavailableError,
} from '@bastion/redis-sentinel';
import { Test } from '@nestjs/testing';
import { useTopology } from '../support/use-topology.js';
import { PASSWORD, PROTECTED_TOPOLOGY, SENTINEL_PASSWORD, sentinelOptions, startModule } from './support.js';
import { printed } from '../support/printed.js';

const WRONG_PASSWORD = 'Wrong-pw-Zt5qL8rN';
const SECRETS = [PASSWORD, SENTINEL_PASSWORD, WRONG_PASSWORD];

function expectNoSecret(what: string, value: unknown): void {
  const text = printed(value);
  for (const secret of SECRETS) expect(text, `${what} prints a password`).not.toContain(secret);
}

describe('no public field holds a password', () => {
  const topo = useTopology(PROTECTED_TOPOLOGY);

  it('inspect and JSON.stringify of the service, every client wrapper and the health indicator', async () => {
    const { moduleRef, clients } = await startModule(sentinelOptions(topo), {
      clients: { default: 'master', reads: 'replica', events: 'subscriber' },
    });
    try {
      // The options the service was built from hold both passwords: the check can fail.
      expect(SECRETS.slice(0, 2).every((s) => inspect(sentinelOptions(topo)).includes(s))).toBe(true);
      expectNoSecret('RedisClientsService', clients);
      for (const name of clients.names()) expectNoSecret(`client wrapper "${name}"`, clients.managed(name));
      const indicator = moduleRef.get(RedisSentinelHealthIndicator);
      expectNoSecret('RedisSentinelHealthIndicator', indicator);
      expectNoSecret('a health result', await indicator.isHealthy('redis', { checkQuorum: true }));
      expect(printed(clients)).toContain('"default"');
    } finally {
      await moduleRef.close();
    }
  });

  it('inspect and JSON.stringify of every error class', async () => {
    const errors: unknown[] = [];

    // Config error: the options hold passwords next to the bad value.
    const config = await Test.createTestingModule({
      imports: [
        RedisSentinelModule.forRoot({ ...sentinelOptions(topo), commandTimeoutMs: -1, url: 'redis://h' }),
      ],
    })
      .compile()
      .catch((e: unknown) => e);
    expect(config).toBeInstanceOf(RedisSentinelConfigError);
    errors.push(config);

    // Startup error after the data node refused a wrong password, and the client errors emitted meanwhile.
    const events: Error[] = [];
    const startup = await Test.createTestingModule({
      imports: [
        RedisSentinelModule.forRoot({
          ...sentinelOptions(topo, { password: WRONG_PASSWORD }),
          startupTimeoutMs: 5000,
        }),
      ],
    })
      .compile()
      .then(async (moduleRef) => {
        moduleRef.get(RedisSentinelEvents).on('error', ({ error }) => events.push(error));
        return moduleRef.init().then(
          () => moduleRef.close(),
          (e: unknown) => e,
        );
      });
    expect(startup).toBeInstanceOf(RedisSentinelStartupError);
    errors.push(startup, ...events);
    expect(events.length).toBeGreaterThan(0);

    // Client-not-found and durable-write errors from a running module.
    const { moduleRef, clients } = await startModule(sentinelOptions(topo));
    try {
      errors.push(
        await Promise.resolve()
          .then(() => clients.get('nope'))
          .catch((e: unknown) => e),
      );
      errors.push(
        await durableWrite(clients.get(), (p) => p.set('no-leak', '1'), { replicas: 9, timeoutMs: 50 }).catch(
          (e: unknown) => e,
        ),
      );
    } finally {
      await moduleRef.close();
    }
    // Thrown deep inside the client's connection handling: built here with the fields they carry.
    errors.push(
      new RedisConnectionLostError('default', 'set', `127.0.0.1:${topo.sentinels[0]!.port}`),
      new RedisSentinelUnavailableError('mymaster', ['127.0.0.1:1'], 'connect ECONNREFUSED'),
    );

    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expectNoSecret((error as Error).name, error);
    }
    expect(new Set(errors.map((e) => (e as Error).name))).toEqual(
      new Set([
        'RedisSentinelConfigError',
        'RedisSentinelStartupError',
        'RedisClientNotFoundError',
        'DurableWriteError',
        'RedisConnectionLostError',
        'RedisSentinelUnavailableError',
        ...events.map((e) => e.name),
      ]),
    );
  });
});
