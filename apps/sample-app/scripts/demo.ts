/**
 * `npm run demo`: a local Sentinel topology (1 master, 2 replicas, 3 Sentinels) from the
 * `redis-server` on PATH, development secrets in a git-ignored folder, and the sample app with
 * pretty logs. Ctrl-C stops everything.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RedisTopology, redisServerBin } from '../../../test/harness/redis-topology.js';

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
function buildIfNeeded(): void {
  const workspaces = ['libs/secrets', 'libs/redis-sentinel', 'libs/loki-logger', 'apps/sample-app'];
  const stale = workspaces.some((w) => {
    const built = existsSync(`${repo}${w}/dist`) ? newest(`${repo}${w}/dist`) : 0;
    return built === 0 || newest(`${repo}${w}/src`) > built;
  });
  if (!stale) return;
  console.log('Building (npm run build)…');
  const res = spawnSync('npm', ['run', 'build'], { cwd: repo, stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
}
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

buildIfNeeded();

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
const topo = await RedisTopology.start({
  password: read('redis_password'),
  sentinelPassword: read('sentinel_password'),
  downAfterMs: 3000,
  failoverTimeoutMs: 10_000,
});

const app = spawn(process.execPath, ['apps/sample-app/dist/main.js'], {
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
});

const base = `http://127.0.0.1:${port}`;
setTimeout(() => {
  console.log(`
Sample app: ${base}   (secrets in ${secretsDir}, Redis logs in ${topo.dir})
Try:
  curl -s ${base}/health/ready | jq
  curl -s -X PUT ${base}/cache/greeting -H 'content-type: application/json' -d '{"value":"hello","ttlSeconds":60}'
  curl -s ${base}/cache/greeting
  curl -s -X POST ${base}/jobs -H 'content-type: application/json' -d '{"payload":{"to":"you"}}'
  curl -s -c /tmp/demo.cookies -X POST ${base}/session -H 'content-type: application/json' -d '{"user":"ada"}'
  curl -s -b /tmp/demo.cookies ${base}/session
  curl -N ${base}/notifications/stream      # in another terminal, then:
  curl -s -X POST ${base}/notifications -H 'content-type: application/json' -d '{"message":"hi"}'
Kill the Redis master and watch the app follow the failover:
  kill -9 ${topo.master.process?.pid}      # master on port ${topo.master.port}
Ctrl-C stops the app and Redis.
`);
}, 1500).unref();

let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  if (app.exitCode === null) {
    app.kill('SIGTERM');
    await new Promise((r) => app.once('exit', r));
  }
  await topo.teardown();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
app.once('exit', (code) => void stop(code ?? 1));
