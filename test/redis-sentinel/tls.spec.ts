import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisSentinelHealthIndicator } from '@bastion/redis-sentinel';
import { freePort, redisServerBin } from '@bastion/redis-topology';
import { useTempDir } from '../support/use-temp-dir.js';
import { startModule } from './support.js';

/**
 * TLS for data and Sentinel connections: a TLS-only master and a TLS-only Sentinel (quorum 1)
 * with a throw-away CA. The shared harness speaks plain TCP, hence this small setup.
 */
describe('TLS for data and Sentinel connections', () => {
  const tempDir = useTempDir('bastion-redis-tls-', 'suite');
  let dir: string;
  const children: ChildProcess[] = [];
  let ca: string;
  let masterPort: number;
  let sentinelPort: number;

  beforeAll(async () => {
    dir = tempDir();
    const openssl = (...args: string[]) => {
      const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
    };
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=test-ca',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    );
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    );
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'server.crt',
    );
    ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    masterPort = await freePort();
    sentinelPort = await freePort();
    const tls = [
      'port 0',
      'bind 127.0.0.1',
      `tls-cert-file ${join(dir, 'server.crt')}`,
      `tls-key-file ${join(dir, 'server.key')}`,
      `tls-ca-cert-file ${join(dir, 'ca.crt')}`,
      'tls-auth-clients no',
      'tls-replication yes',
      `dir ${dir}`,
    ];
    writeFileSync(
      join(dir, 'master.conf'),
      [...tls, `tls-port ${masterPort}`, 'save ""', 'requirepass tls-pw'].join('\n'),
    );
    writeFileSync(
      join(dir, 'sentinel.conf'),
      [
        ...tls,
        `tls-port ${sentinelPort}`,
        `sentinel monitor tlsmaster 127.0.0.1 ${masterPort} 1`,
        'sentinel auth-pass tlsmaster tls-pw',
      ].join('\n'),
    );
    const bin = redisServerBin();
    children.push(spawn(bin, [join(dir, 'master.conf')], { stdio: 'ignore' }));
    children.push(spawn(bin, [join(dir, 'sentinel.conf'), '--sentinel'], { stdio: 'ignore' }));
  });

  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('connects over TLS in Sentinel mode (verifying the CA) and in standalone mode (rediss://)', async () => {
    const tlsOptions = { ca };
    let app: Awaited<ReturnType<typeof startModule>> | undefined;
    // The processes need a moment to listen; retry the whole boot.
    await vi.waitFor(
      async () => {
        app = await startModule({
          sentinels: `127.0.0.1:${sentinelPort}`,
          masterName: 'tlsmaster',
          password: 'tls-pw',
          tls: tlsOptions,
          sentinelTls: tlsOptions,
          startupTimeoutMs: 2000,
        });
      },
      { timeout: 20_000, interval: 20 },
    );
    try {
      const redis = app!.clients.get();
      await redis.set('tls', '1');
      expect(await redis.get('tls')).toBe('1');
      const health = await app!.moduleRef.get(RedisSentinelHealthIndicator).isHealthy('redis');
      expect(health.redis).toMatchObject({ status: 'up', masterAddress: `127.0.0.1:${masterPort}` });
    } finally {
      await app?.moduleRef.close();
    }

    const standalone = await startModule({
      url: `rediss://:tls-pw@127.0.0.1:${masterPort}`,
      tls: tlsOptions,
    });
    try {
      expect(await standalone.clients.get().get('tls')).toBe('1');
    } finally {
      await standalone.moduleRef.close();
    }

    // Without the CA, the server certificate is refused: TLS is really verified.
    const err = await startModule({
      url: `rediss://:tls-pw@127.0.0.1:${masterPort}`,
      startupTimeoutMs: 1000,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/last error: .*(self-signed certificate|unable to verify)/);
  });
});
