/**
 * Runs the BUILT sample app (apps/sample-app/dist/main.js) as a child process, exactly as an
 * orchestrator would, and talks to it over HTTP with deadlines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@bastion/redis-topology';
import { io, type Socket } from 'socket.io-client';

const repo = fileURLToPath(new URL('../../', import.meta.url));
export const APP_MAIN = join(repo, 'apps/sample-app/dist/main.js');

export function assertAppBuilt(): void {
  if (!existsSync(APP_MAIN)) {
    throw new Error(`${APP_MAIN} is missing: run "npm run build" first (npm test does it).`);
  }
}

/** A temp secrets dir with the given files (each value gets the trailing newline editors add). */
export function secretsDir(files: Record<string, string>): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-app-secrets-'));
  for (const [name, value] of Object.entries(files))
    writeFileSync(join(dir, name), value + '\n', { mode: 0o600 });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export class AppProcess {
  /** stdout and stderr, interleaved as they arrived. */
  output = '';
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout!.on('data', (d: Buffer) => {
      this.output += d.toString();
      this.stdout += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.output += d.toString();
      this.stderr += d.toString();
    });
    // 'close', not 'exit': stdout and stderr are read to their end.
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Spawns the app; does not wait for it (see `ready()`). `nodeArgs` go before the entry point
   * (e.g. `--import` of resolve hooks: the benchmark's baseline runs the app on an older lib).
   */
  static async spawn(
    env: Record<string, string | undefined>,
    opts: { nodeArgs?: readonly string[] } = {},
  ): Promise<AppProcess> {
    assertAppBuilt();
    const port = await freePort();
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), APP_MAIN], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        HOST: '127.0.0.1',
        ...env,
      },
    });
    return new AppProcess(child, port);
  }

  /** Resolves when `/health/live` answers 200; rejects if the process exits first or after 20 s. */
  async ready(timeoutMs = 20_000): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`sample app exited during boot:\n${this.output}`);
      try {
        const res = await fetch(`${this.url}/health/live`, { signal: AbortSignal.timeout(500) });
        if (res.status === 200) return this;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`sample app not live after ${timeoutMs} ms:\n${this.output}`);
  }

  /** SIGTERM and wait for the exit. */
  async stop(timeoutMs = 25_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One HTTP request with a deadline; never hangs. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    opts: { timeoutMs?: number; cookie?: string; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: any; headers: Headers; ms: number }> {
    const started = Date.now();
    const headers: Record<string, string> = { ...opts.headers };
    if (body !== undefined || opts.rawBody !== undefined) headers['content-type'] = 'application/json';
    if (opts.cookie) headers.cookie = opts.cookie;
    const res = await fetch(this.url + path, {
      method,
      headers,
      body: opts.rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, headers: res.headers, ms: Date.now() - started };
  }
}

/** A Server-Sent Events client that collects the `data:` payloads of `notification` events. */
export class SseClient {
  readonly messages: any[] = [];
  private readonly controller = new AbortController();
  readonly done: Promise<void>;
  private connected!: () => void;
  readonly open = new Promise<void>((resolve) => (this.connected = resolve));

  constructor(url: string) {
    this.done = this.run(url).catch(() => undefined);
  }

  private async run(url: string): Promise<void> {
    const res = await fetch(url, {
      signal: this.controller.signal,
      headers: { accept: 'text/event-stream' },
    });
    if (res.status !== 200 || !res.body) throw new Error(`SSE answered ${res.status}`);
    this.connected();
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n');
        if (data) this.messages.push(JSON.parse(data));
      }
    }
  }

  close(): void {
    this.controller.abort();
  }
}

/** A Socket.IO client of the `/notifications` namespace that collects the `notification` events. */
export class NotificationSocket {
  readonly messages: any[] = [];
  readonly socket: Socket;
  /** Resolves once connected; rejects on a connection error. */
  readonly connected: Promise<void>;
  /** Resolves when the server ended the connection (or `close()` did). */
  readonly disconnected: Promise<string>;

  constructor(appUrl: string) {
    // WebSocket only and no reconnection: a test sees exactly one connection to one instance.
    this.socket = io(`${appUrl}/notifications`, { transports: ['websocket'], reconnection: false });
    this.socket.on('notification', (n: unknown) => this.messages.push(n));
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', reject);
    });
    this.disconnected = new Promise((resolve) => this.socket.once('disconnect', resolve));
  }

  close(): void {
    this.socket.close();
  }
}
