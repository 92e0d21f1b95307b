import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '@bastion/redis-topology';
import { assertAppBuilt } from './app-process.js';

/**
 * `npm run demo` as a newcomer runs it: the "Try:" banner is the last thing printed once the app is
 * up, and stopping npm the way an IDE or `timeout` does (SIGTERM to npm only) leaves nothing running.
 */
const repo = fileURLToPath(new URL('../../', import.meta.url));

/** Every process below `root` (children, grandchildren, ...), read from /proc. */
function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === pid) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return found;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run demo', () => {
  beforeAll(() => assertAppBuilt());

  it('prints the banner after the boot lines and leaves nothing behind when npm gets SIGTERM', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['run', 'demo'], {
      cwd: repo,
      env: { ...process.env, PORT: String(port), LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<never>((_, reject) =>
      npm.once('exit', (code) => reject(new Error(`npm run demo exited (${code})`))),
    );
    exited.catch(() => undefined); // also ends after a passing run
    npm.stdout.on('data', (d: Buffer) => (output += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let started: number[] = [];
    try {
      await Promise.race([
        vi.waitFor(
          () => expect(output.includes('Ctrl-C stops the app and Redis.'), 'the banner').toBe(true),
          { timeout: 90_000, interval: 20 },
        ),
        exited,
      ]).catch((error: Error) => {
        throw new Error(`${error.message}; output so far:\n${output}`);
      });
      // The app has booted before the banner: its "listening" line is above it, nothing below it.
      const banner = output.indexOf('\nSample app: ');
      expect(output.indexOf('"message":"listening"')).toBeGreaterThan(-1);
      expect(output.indexOf('"message":"listening"')).toBeLessThan(banner);
      expect(output.slice(banner)).not.toContain('"level"');

      started = descendants(npm.pid!);
      const redisServers = started.filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server');
        } catch {
          return false;
        }
      });
      expect(redisServers).toHaveLength(6);

      npm.kill('SIGTERM');
      await vi.waitFor(
        () =>
          expect(
            started.every((pid) => !alive(pid)),
            'every process the demo started to end',
          ).toBe(true),
        { timeout: 30_000, interval: 20 },
      );
    } finally {
      for (const pid of [...started, npm.pid!]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  }, 150_000);
});
