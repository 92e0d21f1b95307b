/**
 * The `redis-server` processes the harnesses start: found once, tracked while they live, and
 * killed when the test process exits with some still running (the last line of defence after
 * each harness's own teardown).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export function redisServerBin(): string {
  const bin = process.env.REDIS_SERVER_BIN || 'redis-server';
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `Cannot run "${bin}": the tests need a real redis-server binary. ` +
        'Install it (Debian/Ubuntu: apt-get install redis-server) or set REDIS_SERVER_BIN to its path.',
    );
  }
  return bin;
}

/** Spawns a server process (output ignored: servers log to their logfile) and tracks it. */
export function spawnTracked(bin: string, args: string[]): ChildProcess {
  installExitHook();
  const child = spawn(bin, args, { stdio: 'ignore' });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Whether the process is still running (or frozen): it has neither exited nor been killed. */
export function isRunning(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** SIGKILL (works on a SIGSTOPped process too) and resolve once the process has exited. */
export async function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** A harness node's process and whether it is frozen: what kill, freeze and thaw act on. */
export interface ServerProcess {
  process: ChildProcess | undefined;
  stopped: boolean;
}

/** SIGKILL a node: it vanishes without closing its sockets cleanly. */
export async function killServer(node: ServerProcess): Promise<void> {
  if (!isRunning(node.process)) return;
  await killAndWait(node.process);
  node.process = undefined;
  node.stopped = false;
}

/** SIGSTOP a node: it freezes, its sockets stay open and silent. */
export function freezeServer(node: ServerProcess): void {
  node.process?.kill('SIGSTOP');
  node.stopped = true;
}

/** SIGCONT a frozen node. */
export function thawServer(node: ServerProcess): void {
  node.process?.kill('SIGCONT');
  node.stopped = false;
}

/** `redis-cli` (or `$REDIS_CLI_BIN`): the harness creates clusters with `redis-cli --cluster create`. */
export function redisCliBin(): string {
  const bin = process.env.REDIS_CLI_BIN || 'redis-cli';
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `Cannot run "${bin}": the cluster harness needs a real redis-cli binary. ` +
        'Install it (Debian/Ubuntu: apt-get install redis-tools) or set REDIS_CLI_BIN to its path.',
    );
  }
  return bin;
}
