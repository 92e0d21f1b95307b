/**
 * docker/Dockerfile and its .dockerignore: multi-stage with production dependencies only, non-root,
 * NODE_ENV=production, exec-form CMD (SIGTERM reaches Node), every workspace copied, and a
 * HEALTHCHECK whose Node one-liner is run here against real HTTP servers.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { loadCompose, readDockerFile, STACKS } from './stack-files.js';

const run = promisify(execFile);
const dockerfile = readDockerFile('Dockerfile');
/** Instructions with their line continuations joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .filter((l) => l.trim() && !l.trim().startsWith('#'));
const stages = instructions.reduce<string[][]>((acc, line) => {
  if (line.startsWith('FROM ')) acc.push([]);
  acc.at(-1)?.push(line);
  return acc;
}, []);
const runtime = stages.at(-1)!;
// The workspaces the image ships. tools/ (the Redis topology of the tests and `npm run demo`) stays
// out of it: `npm ci` in the image links the workspaces whose manifest it finds and skips the rest.
const workspaces = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { workspaces: string[] }
).workspaces.filter((ws) => !ws.startsWith('tools/'));

const healthcheckScript = (() => {
  const line = runtime.find((l) => l.startsWith('HEALTHCHECK'))!;
  const cmd = JSON.parse(line.slice(line.indexOf('CMD') + 3).trim()) as string[];
  expect(cmd.slice(0, 2)).toEqual(['node', '-e']);
  return cmd[2]!;
})();

async function probe(port: number): Promise<{ code: number; ms: number }> {
  const started = Date.now();
  try {
    await run(process.execPath, ['-e', healthcheckScript], { env: { PORT: String(port) }, timeout: 10_000 });
    return { code: 0, ms: Date.now() - started };
  } catch (err) {
    return { code: (err as { code?: number }).code ?? -1, ms: Date.now() - started };
  }
}

function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}

describe('docker/Dockerfile', () => {
  it('is multi-stage and installs only production dependencies for the runtime', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const prodInstall = instructions.find((l) => /npm ci .*--omit=dev/.test(l));
    expect(prodInstall).toBeDefined();
    expect(prodInstall).toContain('--workspace apps/sample-app');
    // The runtime stage installs nothing and compiles nothing: it copies results.
    expect(runtime.filter((l) => l.startsWith('RUN '))).toEqual([]);
    expect(runtime.some((l) => /COPY --from=prod-deps \/app\/node_modules/.test(l))).toBe(true);
    expect(runtime.some((l) => /COPY --from=build .*node_modules/.test(l))).toBe(false);
  });

  it('copies every npm workspace (manifest in both install stages, dist into the runtime)', () => {
    expect(workspaces.length).toBeGreaterThan(0);
    for (const ws of workspaces) {
      const manifestCopies = instructions.filter((l) => l === `COPY ${ws}/package.json ${ws}/`);
      expect(manifestCopies, `${ws}/package.json`).toHaveLength(2);
      expect(runtime, `${ws}/dist`).toContain(`COPY --from=build /app/${ws}/dist ${ws}/dist`);
    }
  });

  it('runs as a non-root user with NODE_ENV=production', () => {
    const user = runtime.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
    expect(runtime.join('\n')).toMatch(/ENV NODE_ENV=production/);
  });

  it('starts Node directly in exec form, so SIGTERM reaches it', () => {
    const cmd = runtime.filter((l) => l.startsWith('CMD ')).at(-1)!;
    expect(JSON.parse(cmd.slice(4))).toEqual(['node', 'apps/sample-app/dist/main.js']);
    expect(runtime.some((l) => l.startsWith('ENTRYPOINT'))).toBe(false);
    const stop = runtime.find((l) => l.startsWith('STOPSIGNAL'));
    if (stop) expect(stop).toBe('STOPSIGNAL SIGTERM');
  });

  it('probes /health/live with Node itself (no curl in the slim image)', () => {
    expect(healthcheckScript).toContain('/health/live');
    expect(healthcheckScript).toContain('AbortSignal.timeout');
    // The Compose/Swarm healthchecks are the same probe on the fixed port 3000.
    const expected = healthcheckScript.replace("'+(process.env.PORT||3000)+'", '3000');
    for (const file of Object.values(STACKS)) {
      const test = loadCompose(file).services.app!.healthcheck!.test as string[];
      expect(test.at(-1), file).toBe(expected);
    }
  });

  it('the HEALTHCHECK one-liner exits 0 on 200, 1 on 503, on a refused connection and on a hung server', async () => {
    const paths: string[] = [];
    const ok = await serve((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(200).end('{"status":"ok"}');
    });
    const down = await serve((_req, res) => res.writeHead(503).end());
    const hung = await serve(() => {
      // never answers
    });
    try {
      expect((await probe(ok.port)).code).toBe(0);
      expect(paths).toEqual(['/health/live']);
      expect((await probe(down.port)).code).toBe(1);
      const closed = down.port;
      await new Promise<void>((r) => down.server.close(() => r()));
      expect((await probe(closed)).code).toBe(1);
      const stuck = await probe(hung.port);
      expect(stuck.code).toBe(1);
      // Its own 2 s deadline fires well before Docker's 10 s --timeout.
      expect(stuck.ms).toBeLessThan(10_000);
    } finally {
      ok.server.close();
      hung.server.closeAllConnections();
      hung.server.close();
    }
  });
});

describe('docker/Dockerfile.dockerignore', () => {
  const ignore = readDockerFile('Dockerfile.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps secrets, host builds and git history out of the build context', () => {
    for (const pattern of ['**/node_modules', '**/dist', '.git', 'docker/secrets', '.env']) {
      expect(ignore).toContain(pattern);
    }
  });

  it('does not exclude what the build stage copies', () => {
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'libs', 'apps']) {
      expect(ignore).not.toContain(needed);
    }
  });
});
