/**
 * `npm run demo`: a local Sentinel topology (1 master, 2 replicas, 3 Sentinels) from the
 * `redis-server` on PATH, development secrets in a git-ignored folder, and the sample app with
 * pretty logs. Ctrl-C stops everything; so does a SIGTERM to `npm` itself (IDE stop buttons,
 * `timeout`), which npm does not pass on to this script.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RedisTopology, redisServerBin } from '@bastion/redis-topology';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** Newest modification time under `dir` (0 when it does not exist). */
function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) max = Math.max(max, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
  }
  return max;
}

/** Runs `npm run build` unless every workspace's dist/ is newer than its sources. */
async function buildIfNeeded(): Promise<void> {
  const workspaces = ['libs/secrets', 'libs/redis-sentinel', 'libs/loki-logger', 'apps/sample-app'];
  const stale = workspaces.some((w) => {
    const built = existsSync(`${repo}${w}/dist`) ? newest(`${repo}${w}/dist`) : 0;
    return built === 0 || newest(`${repo}${w}/src`) > built;
  });
  if (!stale) return;
  console.log('Building (npm run build)…');
  // Asynchronous, so the parent watch below keeps running during the build.
  const build = track(spawn('npm', ['run', 'build'], { cwd: repo, stdio: 'inherit' }));
  const code = await new Promise<number | null>((r) => build.once('exit', r));
  if (code !== 0) await stop(code ?? 1);
}

/** Children to stop on the way out (the build, the app); Redis is stopped through the topology. */
const children = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
let topo: RedisTopology | undefined;
let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.all(
      [...children].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        // The app's own shutdown deadline is 20 s; do not wait longer than that for it.
        const exited = new Promise((r) => child.once('exit', r));
        const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await topo?.teardown();
    process.exit(code);
  }
  return new Promise<never>(() => undefined);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGHUP', () => void stop(0));
// npm forwards SIGTERM to its `sh -c` child, which dies without passing it on: this script is then
// re-parented. Watching the parent is what leaves no app and no redis-server behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(0);
}, 250).unref();

const secretsDir = `${repo}.demo/secrets`;
const port = Number(process.env.PORT ?? 3000);

try {
  redisServerBin();
} catch {
  console.error(
    'npm run demo needs redis-server on PATH (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),\n' +
      'or set REDIS_SERVER_BIN. Without it, use the Docker stack: docker compose -f docker/docker-compose.yml up',
  );
  process.exit(1);
}

await buildIfNeeded();

mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
const secret = (name: string, bytes: number): void => {
  const file = `${secretsDir}/${name}`;
  if (!existsSync(file))
    writeFileSync(file, randomBytes(bytes).toString('base64url') + '\n', { mode: 0o600 });
};
secret('redis_password', 24);
secret('sentinel_password', 24);
secret('session_secret', 48);
const read = (name: string) => readFileSync(`${secretsDir}/${name}`, 'utf8').trim();

console.log('Starting Redis: 1 master, 2 replicas, 3 Sentinels on free loopback ports…');
topo = await RedisTopology.start({
  password: read('redis_password'),
  sentinelPassword: read('sentinel_password'),
  downAfterMs: 3000,
  failoverTimeoutMs: 10_000,
});

const app = track(
  spawn(process.execPath, ['apps/sample-app/dist/main.js'], {
    cwd: repo,
    stdio: 'inherit',
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_SENTINELS: topo.sentinelList,
      REDIS_MASTER_NAME: topo.masterName,
      SECRETS_DIR: secretsDir,
      LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
    },
  }),
);
app.once('exit', (code) => void stop(code ?? 1));

/** True once the app answers its liveness probe, so the banner comes after the boot lines. */
async function appIsLive(): Promise<boolean> {
  try {
    const res = await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

const base = `http://127.0.0.1:${port}`;
const deadline = Date.now() + 60_000;
while (!(await appIsLive())) {
  if (Date.now() > deadline) {
    console.error(`The sample app did not answer ${base}/health/live within 60 s; see its output above.`);
    await stop(1);
  }
  await new Promise((r) => setTimeout(r, 200));
}
console.log(`
Sample app: ${base}   (secrets in ${secretsDir}, Redis logs in ${topo.dir})
Try:
  curl -s ${base}/health/ready | jq
  curl -s -X PUT ${base}/cache/greeting -H 'content-type: application/json' -d '{"value":"hello","ttlSeconds":60}'
  curl -s ${base}/cache/greeting
  curl -s -X POST ${base}/jobs -H 'content-type: application/json' -d '{"payload":{"to":"you"}}'
  curl -s -c /tmp/demo.cookies -X POST ${base}/session -H 'content-type: application/json' -d '{"user":"ada"}'   # a 6th within a minute: 429
  curl -s -b /tmp/demo.cookies ${base}/session
  curl -N ${base}/notifications/stream      # in another terminal (SSE), or over Socket.IO:
  node --input-type=module -e "import { io } from 'socket.io-client'; io('${base}/notifications').on('notification', console.log)"
  curl -s -X POST ${base}/notifications -H 'content-type: application/json' -d '{"message":"hi"}'
Kill the Redis master and watch the app follow the failover:
  kill -9 ${topo.master.process?.pid}      # master on port ${topo.master.port}
Ctrl-C stops the app and Redis.
`);
