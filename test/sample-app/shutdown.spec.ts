import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { useTopology } from '../support/use-topology.js';
import { AppProcess, NotificationSocket, SseClient, secretsDir } from './app-process.js';

const REDIS_PASSWORD = 'shutdown-redis-pw-4Xc';

describe('sample app graceful shutdown (SIGTERM under load)', () => {
  const topo = useTopology({ password: REDIS_PASSWORD, sentinels: 3 });
  let secrets: ReturnType<typeof secretsDir>;
  const apps: AppProcess[] = [];
  const env = () => ({
    REDIS_SENTINELS: topo.sentinelList,
    SECRETS_DIR: secrets.dir,
    WORKER_CONCURRENCY: '8',
  });

  beforeAll(async () => {
    secrets = secretsDir({ redis_password: REDIS_PASSWORD });
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    secrets?.remove();
  });

  it('exits 0 within its deadline, with an SSE and a Socket.IO client connected, and loses no accepted job', async () => {
    const app = await AppProcess.spawn(env());
    apps.push(app);
    await app.ready();

    const accepted: string[] = [];
    const load = { running: true };
    const writer = async () => {
      while (load.running) {
        try {
          const r = await app.request('POST', '/jobs', { payload: { at: Date.now() } }, { timeoutMs: 5000 });
          if (r.status === 202) accepted.push(r.body.id);
        } catch {
          // refused once the server stopped accepting: expected during shutdown
        }
      }
    };
    const writers = [writer(), writer(), writer()];
    // An open SSE response or WebSocket must not hold the server open.
    const sse = new SseClient(`${app.url}/notifications/stream`);
    await sse.open;
    const socket = new NotificationSocket(app.url);
    await socket.connected;
    // Under load before the signal: at least 20 jobs accepted (a busy machine may need seconds).
    await vi.waitFor(() => expect(accepted.length >= 20, '20 accepted jobs before SIGTERM').toBe(true), {
      timeout: 30_000,
      interval: 20,
    });

    const signalledAt = Date.now();
    const { code, signal } = await app.stop();
    const shutdownMs = Date.now() - signalledAt;
    load.running = false;
    await Promise.all(writers);
    await sse.done; // the stream ended with the server
    await socket.disconnected; // the WebSocket ended with the server (no reconnection in the client)

    if (code !== 0) console.log(app.output.split('\n').slice(-30).join('\n'));
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(shutdownMs).toBeLessThan(15_000);
    expect(accepted.length).toBeGreaterThanOrEqual(20);
    expect(app.output).toContain('shutting down');
    // Nothing failed on the way out: no error line, and nothing printed outside the logger (BullMQ
    // and the Socket.IO adapter print to the console when their connections close under them).
    const lines = app.output.split('\n').filter((l) => l.trim() !== '');
    expect(lines.filter((l) => !l.startsWith('{'))).toEqual([]);
    expect(lines.filter((l) => /"level":"(error|fatal)"/.test(l))).toEqual([]);

    // A new instance (another consumer) finishes whatever the first one left: none is lost.
    const next = await AppProcess.spawn(env());
    apps.push(next);
    await next.ready();
    await vi.waitFor(
      async () => {
        for (const id of accepted) {
          const r = await next.request('GET', `/jobs/${id}`);
          expect(r.body?.status === 'done', 'every accepted job to be done').toBe(true);
        }
      },
      { timeout: 40_000, interval: 20 },
    );
    console.log(`SIGTERM: ${accepted.length} jobs accepted, shutdown took ${shutdownMs} ms, all done`);
  });
});
