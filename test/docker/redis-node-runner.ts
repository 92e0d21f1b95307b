/**
 * Runs docker/redis/redis-start.sh outside Docker, against the real redis-server binary:
 * the templates are copied with the container hostnames mapped to `localhost`, ports rewritten
 * to free loopback ports and `dir /data` pointed at a temp folder. The official image's
 * entrypoint is replaced by a shim that just execs its arguments, so the process spawned IS
 * redis-server (the script ends with exec), and killing it needs no process-group tricks.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redisServerBin } from '@bastion/redis-topology';

const run = promisify(execFile);
/**
 * The name every node announces and the templates' hostnames are mapped to. A hostname, not an
 * IP, so `resolve-hostnames`/`announce-hostnames` and `replica-announce-ip <name>` are exercised
 * the way Docker uses them (service names); `localhost` is the one name every machine resolves.
 */
export const ANNOUNCE_HOST = 'localhost';
export const DOCKER_DIR = new URL('../../docker/', import.meta.url).pathname;
export const START_SCRIPT = join(DOCKER_DIR, 'redis/redis-start.sh');

export interface NodeSpec {
  name: string;
  role: 'data' | 'sentinel';
  template: 'redis-master.conf' | 'redis-replica.conf' | 'sentinel.conf';
  port: number;
}

export interface RunningNode extends NodeSpec {
  dir: string;
  conf: string;
  child: ChildProcess;
  log: string[];
}

export class RedisNodeRunner {
  private readonly live = new Set<ChildProcess>();
  private readonly binDir: string;

  /** `hosts` maps a container hostname (redis-master, ...) to the loopback port standing in for it. */
  constructor(
    private readonly root: string,
    private readonly hosts: Record<string, number>,
  ) {
    // Fails fast with an install hint when redis-server is missing.
    const bin = redisServerBin();
    this.binDir = join(root, 'bin');
    mkdirSync(this.binDir, { recursive: true });
    const shim = join(this.binDir, 'entrypoint-shim.sh');
    // The official entrypoint would drop root and exec; here redis-server may be a custom path.
    writeFileSync(shim, `#!/bin/sh\nshift\nexec "${bin}" "$@"\n`);
    chmodSync(shim, 0o755);
  }

  /** The template as the test runs it: hostnames and ports of the Docker network mapped to loopback. */
  localTemplate(spec: NodeSpec, dataDir: string): string {
    let text = readFileSync(join(DOCKER_DIR, 'redis', spec.template), 'utf8');
    text = text.replace(/^port \d+$/m, `port ${spec.port}`).replace(/^dir \/data$/m, `dir ${dataDir}`);
    for (const [host, port] of Object.entries(this.hosts)) {
      text = text.replace(new RegExp(`\\b${host} 6379\\b`, 'g'), `${ANNOUNCE_HOST} ${port}`);
    }
    return text;
  }

  async start(spec: NodeSpec, secretsDir: string): Promise<RunningNode> {
    const dir = join(this.root, spec.name);
    mkdirSync(dir, { recursive: true });
    const template = join(this.root, `${spec.name}.template.conf`);
    writeFileSync(template, this.localTemplate(spec, dir));
    const conf = join(dir, spec.role === 'data' ? 'redis.conf' : 'sentinel.conf');
    const child = spawn('sh', [START_SCRIPT, spec.role], {
      env: {
        PATH: process.env.PATH,
        REDIS_TEMPLATE: template,
        REDIS_CONF: conf,
        SECRETS_DIR: secretsDir,
        REDIS_ANNOUNCE_HOST: ANNOUNCE_HOST,
        REDIS_ENTRYPOINT: join(this.binDir, 'entrypoint-shim.sh'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.live.add(child);
    const log: string[] = [];
    child.stdout?.on('data', (b: Buffer) => log.push(b.toString()));
    child.stderr?.on('data', (b: Buffer) => log.push(b.toString()));
    child.once('exit', () => this.live.delete(child));
    return { ...spec, dir, conf, child, log };
  }

  /** SIGTERM (Redis saves and Sentinel flushes its config on a clean shutdown), then waits. */
  async stop(node: RunningNode, timeoutMs = 5000): Promise<void> {
    const { child } = node;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  killAll(): void {
    for (const child of this.live) child.kill('SIGKILL');
  }
}

/** One redis-cli call with a hard deadline; the password goes through REDISCLI_AUTH, never argv. */
export async function cli(port: number, password: string | undefined, ...args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  if (password !== undefined) env.REDISCLI_AUTH = password;
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    env,
    timeout: 3000,
  });
  return stdout.trim();
}
