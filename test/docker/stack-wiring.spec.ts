/**
 * The production stack's wiring, run without Docker: the Redis nodes and Sentinels started from
 * docker/redis through redis-start.sh with the development secrets of docker/secrets/*.example,
 * and the BUILT app started with exactly the environment docker-compose.prod.yml gives it (service
 * names mapped to `localhost`, ports to free loopback ports). It must become ready, follow a
 * failover through Sentinel's hostnames, log no secret and stop within the stack's grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../harness/free-port.js';
import { ANNOUNCE_HOST, cli, RedisNodeRunner, waitFor, type NodeSpec } from './redis-node-runner.js';
import { DOCKER_DIR, envOf, loadCompose, STACKS } from './stack-files.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const APP_MAIN = join(REPO, 'apps/sample-app/dist/main.js');
const prod = loadCompose(STACKS.prod);
const dev = loadCompose(STACKS.dev);

/** Compose interpolation for the forms the stack uses: ${VAR:-default} and ${VAR}. */
const interpolate = (value: string, env: Record<string, string | undefined> = {}) =>
  value.replace(
    /\$\{(\w+)(?::-([^}]*))?\}/g,
    (_m, name: string, fallback?: string) => env[name] || fallback || '',
  );

const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)![1]);

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('docker-compose.prod.yml wiring, without Docker: real Redis/Sentinel configs + the built app', () => {
  let root: string;
  let runner: RedisNodeRunner;
  let app: ChildProcess | undefined;
  let appPort: number;
  let output = '';
  const ports: Record<string, number> = {};
  const secretValues: string[] = [];

  beforeAll(async () => {
    if (!existsSync(APP_MAIN))
      throw new Error(`${APP_MAIN} is missing: run "npm run build" first (npm test does it).`);
    root = mkdtempSync(join(tmpdir(), 'bastion-docker-wiring-'));
    // The development stack's secret files, as Compose would mount them.
    const secrets = join(root, 'run-secrets');
    mkdirSync(secrets);
    for (const [name, s] of Object.entries(dev.secrets!)) {
      copyFileSync(join(DOCKER_DIR, s.file!), join(secrets, name));
      secretValues.push(readFileSync(join(secrets, name), 'utf8').trim());
    }

    const names = Object.keys(prod.services).filter((s) => s.startsWith('redis-'));
    for (const n of names) ports[n] = await freePort();
    runner = new RedisNodeRunner(root, { 'redis-master': ports['redis-master']! });
    const spec = (n: string): NodeSpec => {
      const template = envOf(prod.services[n]!).REDIS_TEMPLATE!.split('/').at(-1) as NodeSpec['template'];
      return { name: n, role: n.includes('sentinel') ? 'sentinel' : 'data', template, port: ports[n]! };
    };
    for (const n of names.filter((x) => !x.includes('sentinel'))) await runner.start(spec(n), secrets);
    const pw = readFileSync(join(secrets, 'redis_password'), 'utf8');
    await waitFor(async () => (await cli(ports['redis-master']!, pw, 'PING')) === 'PONG', 10_000);
    // What `depends_on: condition: service_healthy` waits for: both replicas in sync. Before that,
    // min-replicas-to-write 1 makes the master refuse writes.
    for (const n of names.filter((x) => x.includes('replica'))) {
      const synced = await waitFor(
        async () => /master_link_status:up/.test(await cli(ports[n]!, pw, 'INFO', 'replication')),
        15_000,
      );
      if (!synced) throw new Error(`${n} never synced`);
    }

    // Sentinels last: their first INFO of the master then already lists both replicas.
    for (const n of names.filter((x) => x.includes('sentinel'))) await runner.start(spec(n), secrets);

    // The app's environment from the prod stack, service names mapped to this machine.
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(envOf(prod.services.app!))) env[k] = interpolate(String(v));
    env.REDIS_SENTINELS = env
      .REDIS_SENTINELS!.split(',')
      .map((hp) => `${ANNOUNCE_HOST}:${ports[hp.split(':')[0]!]}`)
      .join(',');
    env.SECRETS_DIR = secrets;
    appPort = await freePort();
    env.PORT = String(appPort);
    env.HOST = '127.0.0.1';
    app = spawn(process.execPath, [APP_MAIN], {
      cwd: REPO,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    app.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    app.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  });

  afterAll(() => {
    app?.kill('SIGKILL');
    runner?.killAll();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('becomes ready on the master Sentinel names, with production settings and the mounted secrets', async () => {
    // Stops polling at once if the app died (its output then says why).
    const ready = await waitFor(
      async () =>
        app!.exitCode !== null || (await getJson(`http://127.0.0.1:${appPort}/health/ready`)).status === 200,
      20_000,
      200,
    );
    expect(app!.exitCode, output.slice(-2000)).toBeNull();
    expect(ready, output.slice(-2000)).toBe(true);
    const { body } = await getJson(`http://127.0.0.1:${appPort}/health/ready`);
    const redis = (body.details as Record<string, Record<string, unknown>>).redis!;
    // The address came from Sentinel as a NAME (announce-hostnames), as service names do in Docker.
    expect(redis.masterAddress).toBe(`${ANNOUNCE_HOST}:${ports['redis-master']}`);
    expect(redis.connectedReplicas).toBe(2);
  });

  it('follows a failover and keeps writing (min-replicas-to-write is met again after resync)', async () => {
    expect(app!.exitCode, output.slice(-2000)).toBeNull();
    const sentinelPw = readFileSync(join(root, 'run-secrets', 'sentinel_password'), 'utf8');
    // NOGOODSLAVE until Sentinel has refreshed the replicas' INFO once: retry until it accepts.
    const accepted = await waitFor(
      async () =>
        (await cli(ports['redis-sentinel-1']!, sentinelPw, 'SENTINEL', 'FAILOVER', 'mymaster')) === 'OK',
      15_000,
      250,
    );
    expect(accepted).toBe(true);
    const followed = await waitFor(
      async () => {
        const { status, body } = await getJson(`http://127.0.0.1:${appPort}/health/ready`);
        const redis = (body.details as Record<string, Record<string, unknown>> | undefined)?.redis;
        return status === 200 && redis?.masterAddress !== `${ANNOUNCE_HOST}:${ports['redis-master']}`;
      },
      20_000,
      200,
    );
    expect(followed, output.slice(-2000)).toBe(true);
    const stored = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${appPort}/cache/wiring`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ value: 'after-failover' }),
          signal: AbortSignal.timeout(3000),
        });
        return res.status === 204;
      },
      15_000,
      250,
    );
    expect(stored).toBe(true);
    const read = await getJson(`http://127.0.0.1:${appPort}/cache/wiring`);
    expect(read.body.value).toBe('after-failover');
  });

  it('logs one JSON object per line and never a secret value', () => {
    const lines = output.split('\n').filter((l) => l.trim());
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    for (const value of secretValues) expect(output).not.toContain(value);
  });

  it('exits 0 on SIGTERM well within the stack stop_grace_period', async () => {
    const grace = seconds(String(prod.services.app!.stop_grace_period));
    expect(app!.exitCode, 'the app exited before SIGTERM').toBeNull();
    const exited = new Promise<number | null>((resolve) => app!.once('exit', (code) => resolve(code)));
    const started = Date.now();
    app!.kill('SIGTERM');
    const timer = setTimeout(() => app!.kill('SIGKILL'), grace * 1000);
    const code = await exited;
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(grace * 1000);
  });
});
