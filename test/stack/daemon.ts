/**
 * A private Docker engine for the stack test: its own data root, exec root, pidfile and socket
 * under a temporary folder. Every client call goes to that socket (DOCKER_HOST) with an empty
 * client config (DOCKER_CONFIG), so no other daemon, context or credential helper is ever used.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The docker.io package's own 20.10 client: BuildKit built in (the v28 CLI on PATH has no buildx). */
export const BUILD_CLIENT = '/usr/bin/docker';
export const DOCKERD = '/usr/sbin/dockerd';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export function run(
  cmd: string,
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    input?: string;
    timeoutMs?: number;
    allowFail?: boolean;
    cwd?: string;
  } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        maxBuffer: 256 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 120_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        if (err && !opts.allowFail) {
          reject(
            new Error(
              `${cmd} ${args.join(' ')} failed (${String(err.code ?? err.signal)}):\n${String(stderr).slice(-4000)}${String(stdout).slice(-2000)}`,
            ),
          );
          return;
        }
        resolve({ stdout: String(stdout), stderr: String(stderr), code });
      },
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Why this machine cannot run the test, or undefined when it can. */
export async function whyImpossible(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (a private dockerd needs root)';
  if (!existsSync(DOCKERD)) return `${DOCKERD} is missing (apt-get install docker.io)`;
  if (!existsSync(BUILD_CLIENT)) return `${BUILD_CLIENT} is missing (apt-get install docker.io)`;
  const { stdout: deboot } = await run('sh', ['-c', 'command -v debootstrap || true']);
  if (!deboot.trim()) return 'debootstrap is missing (apt-get install debootstrap)';
  const { stdout: deploy } = await run('sh', ['-c', 'command -v docker || true']);
  if (!deploy.trim()) return 'no docker CLI on PATH';
  // One engine owns the default bridge and Swarm's gateway bridge: never start a second one.
  const { stdout: running } = await run('sh', ['-c', 'pgrep -x dockerd || true']);
  if (running.trim())
    return `a dockerd already runs on this machine (pid ${running.trim().split('\n').join(', ')})`;
  return undefined;
}

export class PrivateDocker {
  readonly dir: string;
  readonly socket: string;
  readonly env: NodeJS.ProcessEnv;
  private proc: ChildProcess | undefined;
  private stopped = false;
  private forwardPolicyBefore: string | undefined;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'bastion-stack-'));
    this.socket = join(this.dir, 'docker.sock');
    mkdirSync(join(this.dir, 'client'));
    writeFileSync(join(this.dir, 'client', 'config.json'), '{}\n');
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DOCKER_CONTEXT;
    delete env.DOCKER_TLS_VERIFY;
    delete env.DOCKER_CERT_PATH;
    env.DOCKER_HOST = `unix://${this.socket}`;
    env.DOCKER_CONFIG = join(this.dir, 'client');
    env.DOCKER_CLI_HINTS = 'false';
    this.env = env;
  }

  async start(): Promise<void> {
    this.forwardPolicyBefore = (
      await run('sh', ['-c', 'iptables -S FORWARD 2>/dev/null | head -n 1'], { allowFail: true })
    ).stdout.trim();
    const log = join(this.dir, 'dockerd.log');
    const out = (await import('node:fs')).openSync(log, 'a');
    this.proc = spawn(
      DOCKERD,
      [
        '--data-root',
        join(this.dir, 'root'),
        '--exec-root',
        join(this.dir, 'exec'),
        '--pidfile',
        join(this.dir, 'docker.pid'),
        '-H',
        `unix://${this.socket}`,
        '--storage-driver',
        'overlay2',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', out, out], detached: true },
    );
    this.proc.unref();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const probe = await run(BUILD_CLIENT, ['version', '--format', '{{.Server.Version}}'], {
        env: this.env,
        allowFail: true,
        timeoutMs: 5_000,
      });
      if (probe.code === 0) return;
      if (this.proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the private dockerd did not start:\n${readFileSync(log, 'utf8').slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** The docker.io 20.10 client (builds with BuildKit). */
  docker(args: string[], opts: { input?: string; timeoutMs?: number; allowFail?: boolean } = {}) {
    return run(BUILD_CLIENT, args, { ...opts, env: { ...this.env, DOCKER_BUILDKIT: '1' } });
  }

  /** The CLI on PATH (v28): its `docker stack deploy` accepts version-less stack files. */
  cli(args: string[], opts: { input?: string; timeoutMs?: number; allowFail?: boolean } = {}) {
    return run('docker', args, { ...opts, env: this.env });
  }

  /** Stops the daemon and removes everything it made; safe to call twice and after a failed start. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const pidFile = join(this.dir, 'docker.pid');
    const pid = this.proc?.pid ?? (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined);
    if (pid && this.proc?.exitCode === null) {
      // Containers first (quick), then leave the swarm so the daemon exits without waiting on tasks.
      await run(
        'sh',
        ['-c', `ids=$(${BUILD_CLIENT} ps -aq); [ -z "$ids" ] || ${BUILD_CLIENT} rm -f $ids >/dev/null`],
        {
          env: this.env,
          allowFail: true,
          timeoutMs: 60_000,
        },
      );
      await this.docker(['swarm', 'leave', '--force'], { allowFail: true, timeoutMs: 30_000 });
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && this.alive(pid)) await new Promise((r) => setTimeout(r, 200));
      if (this.alive(pid)) process.kill(pid, 'SIGKILL');
      while (this.alive(pid)) await new Promise((r) => setTimeout(r, 100));
    }
    // The managed containerd and shims are children of this daemon only; anything still holding
    // our folders is ours (its command line names our folder).
    await run(
      'sh',
      [
        '-c',
        `for p in $(pgrep -f '${this.dir}/' || true); do [ "$p" = "$$" ] || kill -9 "$p" 2>/dev/null || true; done`,
      ],
      { allowFail: true },
    );
    // Mounts under our folder (overlay layers, shm, network namespaces), deepest first.
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1])
      .filter((m): m is string => !!m && m.startsWith(this.dir + '/'))
      .toSorted((a, b) => b.length - a.length);
    for (const m of mounts) await run('umount', ['-l', m], { allowFail: true });
    // Links our daemon created (the default bridge, Swarm's gateway bridge).
    for (const link of ['docker_gwbridge', 'docker0'])
      await run('ip', ['link', 'delete', link], { allowFail: true });
    // dockerd sets the FORWARD policy to DROP; give back the policy this machine had. No rule is
    // flushed or deleted: the chains Docker added stay (empty of our containers).
    if (this.forwardPolicyBefore?.startsWith('-P FORWARD ')) {
      await run('iptables', this.forwardPolicyBefore.split(' '), { allowFail: true });
    }
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  private alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}
