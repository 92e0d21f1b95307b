import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FakeLoki } from '../fake-loki/fake-loki.js';

const fixture = fileURLToPath(new URL('./fixtures/log-and-leave.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('process lifetime', () => {
  it('never keeps the process alive: batch, retry and backoff timers are unref`d', async () => {
    const fake = await FakeLoki.start();
    const url = fake.url;
    await fake.refuse(); // every push fails: a retry with a 10 s backoff is pending when the app ends
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, url], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    // Timed from the fixture's last act (its stats line, when the 10 s backoff is armed), not from
    // the spawn: loading TypeScript through tsx can take seconds on a busy machine.
    let lastActAt: number | undefined;
    child.stderr.on('data', (d: Buffer) => {
      stderr += String(d);
      lastActAt ??= Date.now();
    });
    const { code, exitedAt } = await new Promise<{ code: number | null; exitedAt: number }>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', (c) => {
        clearTimeout(kill);
        resolve({ code: c, exitedAt: Date.now() });
      });
    });
    expect(code).toBe(0);
    expect(lastActAt).toBeDefined();
    expect(exitedAt - lastActAt!).toBeLessThan(5000); // far below the 10 s backoff and 60 s interval
    const stats = JSON.parse(stderr.trim().split('\n').at(-1)!) as {
      retries: number;
      bufferedEntries: number;
    };
    expect(stats.retries).toBeGreaterThanOrEqual(1);
    expect(stats.bufferedEntries).toBe(1);
    await fake.close();
  });
});
