/**
 * The Redis and Sentinel templates of docker/redis, started through redis-start.sh by the REAL
 * redis-server: a misspelt directive, a wrong quorum, a broken password line or a start script
 * that loses the role after a failover fails here, not in production.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from '@bastion/redis-topology';
import { useTempDir } from '../support/use-temp-dir.js';
import { loadCompose, STACKS } from './stack-files.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ANNOUNCE_HOST, cli, RedisNodeRunner, type NodeSpec, type RunningNode } from './redis-node-runner.js';

const secret = () => randomBytes(24).toString('base64url');
const exitCode = (cmd: string) =>
  promisify(execFile)('sh', ['-c', cmd], { timeout: 5000 }).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1,
  );

function writeSecrets(dir: string, values: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries(values)) writeFileSync(join(dir, name), `${value}\n`);
  return dir;
}

describe('docker/redis configs under the real redis-server', () => {
  const tempRoot = useTempDir('bastion-docker-redis-', 'suite');
  let root: string;
  let runner: RedisNodeRunner;
  let secretsDir: string;
  const redisPassword = secret();
  const sentinelPassword = secret();
  const nodes: Record<string, RunningNode> = {};
  const specs: NodeSpec[] = [];

  beforeAll(async () => {
    root = tempRoot();
    const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
    specs.push(
      { name: 'redis-master', role: 'data', template: 'redis-master.conf', port: ports[0]! },
      { name: 'redis-replica-1', role: 'data', template: 'redis-replica.conf', port: ports[1]! },
      { name: 'redis-replica-2', role: 'data', template: 'redis-replica.conf', port: ports[2]! },
      { name: 'redis-sentinel-1', role: 'sentinel', template: 'sentinel.conf', port: ports[3]! },
      { name: 'redis-sentinel-2', role: 'sentinel', template: 'sentinel.conf', port: ports[4]! },
      { name: 'redis-sentinel-3', role: 'sentinel', template: 'sentinel.conf', port: ports[5]! },
    );
    runner = new RedisNodeRunner(root, { 'redis-master': ports[0]! });
    secretsDir = writeSecrets(join(root, 'secrets'), {
      redis_password: redisPassword,
      sentinel_password: sentinelPassword,
    });
    for (const spec of specs.filter((s) => s.role === 'data'))
      nodes[spec.name] = await runner.start(spec, secretsDir);
    await vi.waitFor(
      async () =>
        expect(
          (await cli(nodes['redis-master']!.port, redisPassword, 'PING')) === 'PONG',
          `redis-master did not start:\n${nodes['redis-master']!.log.join('')}`,
        ).toBe(true),
      { timeout: 10_000, interval: 100 },
    );
    // Sentinels learn replicas from the master's INFO, refreshed every 10 s: start them once both
    // replicas are attached, so the first INFO already lists them.
    // Best effort, as before: the tests below report a replica that never attached.
    await vi
      .waitFor(
        async () =>
          expect(
            /connected_slaves:2/.test(
              await cli(nodes['redis-master']!.port, redisPassword, 'INFO', 'replication'),
            ),
          ).toBe(true),
        { timeout: 10_000, interval: 100 },
      )
      .catch(() => undefined);
    for (const spec of specs.filter((s) => s.role === 'sentinel'))
      nodes[spec.name] = await runner.start(spec, secretsDir);
  });

  afterAll(() => {
    runner?.killAll();
  });

  it('starts every node and answers PING only with the password from the secret', async () => {
    for (const spec of specs) {
      const pw = spec.role === 'data' ? redisPassword : sentinelPassword;
      await vi.waitFor(
        async () =>
          expect(
            (await cli(spec.port, pw, 'PING')) === 'PONG',
            `${spec.name} log:\n${nodes[spec.name]!.log.join('')}`,
          ).toBe(true),
        { timeout: 10_000, interval: 100 },
      );
      expect(await cli(spec.port, undefined, 'PING')).toMatch(/NOAUTH/);
      expect(await cli(spec.port, 'wrong-password', 'PING')).toMatch(/NOAUTH|WRONGPASS/);
    }
  });

  it('applies the directives the runbook promises (AOF, min-replicas, quorum 2, parallel-syncs 1)', async () => {
    const master = nodes['redis-master']!;
    const get = async (key: string) =>
      (await cli(master.port, redisPassword, 'CONFIG', 'GET', key)).split('\n')[1];
    expect(await get('appendonly')).toBe('yes');
    expect(await get('min-replicas-to-write')).toBe('1');
    expect(await get('min-replicas-max-lag')).toBe('10');
    expect(await get('maxmemory-policy')).toBe('noeviction');
    const info = (
      await cli(nodes['redis-sentinel-1']!.port, sentinelPassword, 'SENTINEL', 'MASTER', 'mymaster')
    ).split('\n');
    const field = (k: string) => info[info.indexOf(k) + 1];
    expect(field('quorum')).toBe('2');
    expect(field('parallel-syncs')).toBe('1');
    expect(Number(field('down-after-milliseconds'))).toBeGreaterThan(0);
    expect(Number(field('failover-timeout'))).toBeGreaterThan(0);
  });

  it('replicas sync from the master named in the template (masterauth works)', async () => {
    for (const name of ['redis-replica-1', 'redis-replica-2']) {
      await vi.waitFor(
        async () =>
          expect(
            /master_link_status:up/.test(await cli(nodes[name]!.port, redisPassword, 'INFO', 'replication')),
            `${name} never synced`,
          ).toBe(true),
        { timeout: 15_000, interval: 100 },
      );
    }
  });

  it('the three Sentinels find each other (sentinel-pass), reach quorum and hand out hostnames', async () => {
    const s1 = nodes['redis-sentinel-1']!;
    await vi.waitFor(
      async () =>
        expect(
          (await cli(s1.port, sentinelPassword, 'SENTINEL', 'CKQUORUM', 'mymaster')).startsWith('OK 3'),
        ).toBe(true),
      { timeout: 20_000, interval: 250 },
    );
    // announce-hostnames: clients get the name (a Docker service name in the stack), not an IP
    // that changes when the container restarts.
    const [host, port] = (
      await cli(s1.port, sentinelPassword, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')
    ).split('\n');
    expect(host).toBe(ANNOUNCE_HOST);
    expect(port).toBe(String(nodes['redis-master']!.port));
    // Sentinel learns the replicas from the master's INFO (every 10 s at first): wait for both.
    await vi.waitFor(
      async () => {
        const replicas = await cli(s1.port, sentinelPassword, 'SENTINEL', 'REPLICAS', 'mymaster');
        expect(
          ['redis-replica-1', 'redis-replica-2'].every((r) =>
            replicas.includes(`${ANNOUNCE_HOST}:${nodes[r]!.port}`),
          ),
          'replicas announced by name (replica-announce-ip)',
        ).toBe(true);
      },
      { timeout: 15_000, interval: 100 },
    );
  });

  it("the stack's healthcheck commands pass on these nodes and fail on a replica that lost its master", async () => {
    // The CMD-SHELL lines of docker-compose.prod.yml, pointed at this machine's secrets and ports.
    const prod = loadCompose(STACKS.prod);
    const command = (service: string, port: number) => {
      const test = prod.services[service]!.healthcheck!.test as string[];
      expect(test[0]).toBe('CMD-SHELL');
      return test[1]!
        .replaceAll('$$', '$')
        .replaceAll('/run/secrets/', `${secretsDir}/`)
        .replace(/-p (6379|26379)\b/, `-h 127.0.0.1 -p ${port}`);
    };
    for (const spec of specs) expect(await exitCode(command(spec.name, spec.port)), spec.name).toBe(0);

    // A replica whose master is unreachable is NOT healthy (the app must not start on it).
    const r2 = nodes['redis-replica-2']!;
    expect(await cli(r2.port, redisPassword, 'REPLICAOF', '127.0.0.1', String(await freePort()))).toBe('OK');
    expect(await exitCode(command('redis-replica-2', r2.port))).toBe(1);
    expect(
      await cli(r2.port, redisPassword, 'REPLICAOF', ANNOUNCE_HOST, String(nodes['redis-master']!.port)),
    ).toBe('OK');
    await vi.waitFor(
      async () => expect((await exitCode(command('redis-replica-2', r2.port))) === 0).toBe(true),
      { timeout: 10_000, interval: 100 },
    );
  });

  it('writes the generated configs with mode 600 (they hold the password) and logs no password', () => {
    for (const spec of specs) {
      expect(statSync(nodes[spec.name]!.conf).mode & 0o777).toBe(0o600);
      const log = nodes[spec.name]!.log.join('');
      expect(log).not.toContain(redisPassword);
      expect(log).not.toContain(sentinelPassword);
    }
  });

  it('keeps the role Sentinel gave a node across a restart (old master comes back as a replica)', async () => {
    const master = nodes['redis-master']!;
    const replica1 = nodes['redis-replica-1']!;
    // Exactly what Sentinel sends to an old master it demotes after a failover: REPLICAOF, then
    // CONFIG REWRITE (which needs the writable copy on the volume). Done by hand here because
    // Sentinel waits ~8 s before converting a live old master.
    expect(await cli(replica1.port, redisPassword, 'REPLICAOF', 'NO', 'ONE')).toBe('OK');
    expect(await cli(master.port, redisPassword, 'REPLICAOF', '127.0.0.1', String(replica1.port))).toBe('OK');
    expect(await cli(master.port, redisPassword, 'CONFIG', 'REWRITE')).toBe('OK');

    await runner.stop(master);
    nodes['redis-master'] = await runner.start(specs[0]!, secretsDir);
    await vi.waitFor(
      async () =>
        expect(
          /role:slave/.test(await cli(master.port, redisPassword, 'INFO', 'replication')),
          'a restarted old master must not come back as a second master',
        ).toBe(true),
      { timeout: 10_000, interval: 100 },
    );
    expect(readFileSync(master.conf, 'utf8')).toMatch(
      new RegExp(`^replicaof 127\\.0\\.0\\.1 ${replica1.port}$`, 'm'),
    );
    // The rest still comes from the template: the password lines were regenerated, not duplicated.
    expect(readFileSync(master.conf, 'utf8').match(/^requirepass /gm)).toHaveLength(1);
  });

  it('restarts a Sentinel with its saved state and a rotated password (old one refused)', async () => {
    const s2 = nodes['redis-sentinel-2']!;
    await runner.stop(s2);
    const saved = readFileSync(s2.conf, 'utf8');
    expect(saved).toMatch(/^sentinel myid /m);
    const rotated = secret();
    const rotatedDir = writeSecrets(join(root, 'secrets-rotated'), {
      redis_password: redisPassword,
      sentinel_password: rotated,
    });
    nodes['redis-sentinel-2'] = await runner.start(specs[4]!, rotatedDir);
    await vi.waitFor(
      async () =>
        expect(
          (await cli(s2.port, rotated, 'PING')) === 'PONG',
          nodes['redis-sentinel-2']!.log.join(''),
        ).toBe(true),
      { timeout: 10_000, interval: 100 },
    );
    expect(await cli(s2.port, sentinelPassword, 'PING')).toMatch(/NOAUTH|WRONGPASS/);
    // Same identity as before the restart: its state was kept, not rebuilt from the template.
    expect(readFileSync(s2.conf, 'utf8').match(/^sentinel myid (\w+)/m)?.[1]).toBe(
      saved.match(/^sentinel myid (\w+)/m)?.[1],
    );
    // The password lines are replaced, not piled up.
    expect(readFileSync(s2.conf, 'utf8').match(/^requirepass /gm)).toHaveLength(1);
  });

  it('refuses to start without the secret, naming the missing secret', async () => {
    const empty = join(root, 'no-secrets');
    mkdirSync(empty, { recursive: true });
    const port = await freePort();
    const node = await runner.start(
      { name: 'orphan', role: 'data', template: 'redis-master.conf', port },
      empty,
    );
    const code = await new Promise<number | null>((resolve) => node.child.once('exit', (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(node.log.join('')).toMatch(/secret 'redis_password' not found/);
  });
});
