import { createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AppProcess, secretsDir } from './app-process.js';

const SESSION_SECRET = 'boot-errors-session-secret-abcdefghijklmnopqrstuvwxyz';

/**
 * A boot failure, as a log collector sees it: every line on stdout and on stderr is JSON, no ANSI
 * colour, one `fatal` line with the typed error and no stack, and exit code 1.
 */
async function bootFailure(app: AppProcess, errorName: string): Promise<Record<string, any>> {
  const { code } = await app.exited;
  expect(code).toBe(1);
  expect(app.output).not.toContain('\x1b[');
  for (const [stream, text] of [
    ['stdout', app.stdout],
    ['stderr', app.stderr],
  ] as const) {
    for (const line of text.split('\n').filter((l) => l.length > 0)) {
      expect(() => JSON.parse(line), `${stream} line is not JSON: ${line}`).not.toThrow();
    }
  }
  const records = app.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, any>);
  const failures = records.filter((r) => r.level === 'fatal' || r.error?.name === errorName);
  expect(failures, app.output).toHaveLength(1);
  const [failure] = failures;
  expect(records.at(-1)).toBe(failure); // the last line before the exit
  expect(failure).toMatchObject({
    level: 'fatal',
    context: 'Bootstrap',
    service: 'sample-app',
    error: { name: errorName },
  });
  expect(failure!.message).toBe(`failed to start: ${failure!.error.message}`);
  expect(failure!.error.stack).toBeUndefined();
  expect(app.output).not.toMatch(/\n\s+at /);
  return failure!;
}

describe('sample app boot errors: one JSON line each, typed, exit 1', () => {
  it('(a) a typo in REDIS_SENTINELS (and a bad LOG_FORMAT): AppConfigError listing every problem', async () => {
    const app = await AppProcess.spawn({
      REDIS_SENTINELS: 'sentinel-1:26379,sentinel-2;26379',
      LOG_FORMAT: 'xml',
    });
    const failure = await bootFailure(app, 'AppConfigError');
    expect(failure.error.problems).toEqual([
      'REDIS_SENTINELS entry "sentinel-2;26379" is not host:port (expected e.g. "sentinel-1:26379")',
      'LOG_FORMAT must be "json" or "pretty" (got "xml")',
    ]);
  });

  it('(b) NODE_ENV=production without redis_password: SecretsLoadError naming it and where it was looked for', async () => {
    const secrets = secretsDir({ session_secret: SESSION_SECRET });
    try {
      const app = await AppProcess.spawn({
        NODE_ENV: 'production',
        REDIS_SENTINELS: '127.0.0.1:1',
        SECRETS_DIR: secrets.dir,
      });
      const failure = await bootFailure(app, 'SecretsLoadError');
      expect(failure.env).toBe('production');
      expect(failure.error.problems).toEqual([
        expect.objectContaining({ name: 'redis_password', kind: 'missing' }),
      ]);
      const lookedAt = (failure.error.problems[0].lookedAt as string[]).join(', ');
      expect(lookedAt).toContain(`${secrets.dir}/redis_password`);
      expect(lookedAt).toContain('REDIS_PASSWORD_FILE');
      // Readable through the logger's key=value rule: what is wrong is not masked as if a value.
      expect(failure.error.message).toContain('"redis_password" is required but not found');
      expect(JSON.stringify(failure)).not.toContain('[REDACTED]');
    } finally {
      secrets.remove();
    }
  });

  it('(c) Sentinels that accept connections but never answer, short startup timeout: RedisSentinelStartupError', async () => {
    // Two "Sentinels" that take the connection and then say nothing.
    const sockets = new Set<Socket>();
    const silent = (): Promise<Server> =>
      new Promise((resolve) => {
        const server = createServer((s) => sockets.add(s));
        server.listen(0, '127.0.0.1', () => resolve(server));
      });
    const servers = [await silent(), await silent()];
    const list = servers.map((s) => `127.0.0.1:${(s.address() as { port: number }).port}`).join(',');
    try {
      const started = Date.now();
      const app = await AppProcess.spawn({ REDIS_SENTINELS: list, REDIS_STARTUP_TIMEOUT_MS: '1500' });
      const failure = await bootFailure(app, 'RedisSentinelStartupError');
      // Far from a hang, with room for a slow Node start on a busy machine.
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(failure.error.message).toContain('1500 ms');
    } finally {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });
});
