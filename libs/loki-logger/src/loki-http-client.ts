import http from 'node:http';
import https from 'node:https';
import type { LokiDiagnostics } from './loki-diagnostics.js';
import {
  PUSH_PATH,
  type LokiCredential,
  type ResolvedLokiShippingOptions,
} from './loki-logger-options.resolver.js';

/** Longest part of an answer's body kept (Loki's error text). */
const MAX_ERROR_BODY = 4096;

/** Loki's answer to one request. */
export interface LokiResponse {
  readonly status: number;
  readonly body: string;
  /** `Retry-After` in ms, when the answer carries one. */
  readonly retryAfterMs?: number;
}

/**
 * HTTP to Loki: the push and `/ready` URLs, keep-alive sockets, the tenant and custom headers, and the
 * `Authorization` header built per request (a credential may be a function returning the rotated
 * value). Credentials live in `#private` fields: `util.inspect()` never shows them.
 */
export class LokiHttpClient {
  readonly #pushUrl: URL;
  readonly #readyUrl: URL;
  readonly #agent: http.Agent;
  readonly #baseHeaders: Record<string, string>;
  /** Built per request: the credential may be a function returning the current (rotated) value. */
  readonly #authorization: (() => string | undefined) | undefined;
  #inFlight: AbortController | undefined;

  constructor(options: ResolvedLokiShippingOptions, diagnostics: LokiDiagnostics) {
    this.#pushUrl = new URL(`${options.url}${PUSH_PATH}`);
    this.#readyUrl = new URL(`${options.url}/ready`);
    // Keep-alive sockets are unref'd by Node's agent while idle: they never hold the process open.
    this.#agent =
      this.#pushUrl.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 2 })
        : new http.Agent({ keepAlive: true, maxSockets: 2 });
    this.#baseHeaders = { ...options.headers };
    if (options.tenant) this.#baseHeaders['X-Scope-OrgID'] = options.tenant;
    this.#authorization = authorization(options, diagnostics);
  }

  /** POSTs a push body; rejects on a network error or when `timeoutMs` passes. */
  push(body: Buffer, contentHeaders: Record<string, string>, timeoutMs: number): Promise<LokiResponse> {
    return this.request('POST', this.#pushUrl, { ...this.headers(), ...contentHeaders }, body, timeoutMs);
  }

  /** GET `/ready` of Loki (for the health indicator), within `timeoutMs`. */
  async ready(timeoutMs: number): Promise<{ ready: boolean; detail: string }> {
    try {
      const res = await this.request('GET', this.#readyUrl, this.headers(), undefined, timeoutMs);
      return { ready: res.status === 200, detail: `${res.status} ${res.body.slice(0, 100).trim()}` };
    } catch (err) {
      return { ready: false, detail: describeError(err) };
    }
  }

  /** Aborts the request in flight, if any. */
  abort(): void {
    this.#inFlight?.abort();
  }

  /** Closes the sockets. */
  destroy(): void {
    this.#agent.destroy();
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { ...this.#baseHeaders };
    const auth = this.#authorization?.();
    if (auth !== undefined) headers.Authorization = auth;
    return headers;
  }

  private request(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: Buffer | undefined,
    timeoutMs: number,
  ): Promise<LokiResponse> {
    return new Promise<LokiResponse>((resolve, reject) => {
      const controller = new AbortController();
      this.#inFlight = controller;
      let settled = false;
      const finish = (err: Error | undefined, res?: LokiResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.#inFlight === controller) this.#inFlight = undefined;
        if (err) reject(err);
        else resolve(res!);
      };
      // The deadline covers connect, upload and the whole answer; abort() destroys the socket.
      const timer = setTimeout(() => {
        controller.abort();
        finish(new Error(`timeout after ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const transport = url.protocol === 'https:' ? https : http;
      const req = transport.request(
        url,
        {
          method,
          agent: this.#agent,
          signal: controller.signal,
          headers: body ? { ...headers, 'Content-Length': String(body.length) } : headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size < MAX_ERROR_BODY) chunks.push(chunk);
            size += chunk.length;
          });
          res.on('error', (err) => finish(err));
          res.on('aborted', () => finish(new Error('response aborted')));
          res.on('end', () => {
            finish(undefined, {
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY),
              retryAfterMs: parseRetryAfter(res.headers['retry-after']),
            });
          });
        },
      );
      req.on('error', (err) => finish(err));
      req.end(body);
    });
  }
}

/**
 * The `Authorization` header of each request: Bearer, Basic, or none. Static half-credentials were
 * refused at boot; a function is only known per push. An empty user and password is "no auth" (a dev
 * setup with nothing configured), never `Basic Og==`.
 */
function authorization(
  options: ResolvedLokiShippingOptions,
  diagnostics: LokiDiagnostics,
): (() => string | undefined) | undefined {
  const { username, password, bearerToken } = options;
  if (bearerToken !== undefined) {
    return () => {
      const token = read(bearerToken);
      return token ? `Bearer ${token}` : undefined;
    };
  }
  if (password === undefined) return undefined;
  const user = username ?? '';
  return () => {
    const secret = read(password);
    if (!secret) {
      if (user)
        diagnostics.credential(
          'loki.password returned no value although loki.username is set: pushing without ' +
            'Authorization (Loki will likely answer 401). Check the secret loki.password reads.',
        );
      return undefined;
    }
    if (!user) {
      diagnostics.credential(
        'loki.password returned a value but loki.username is empty: pushing without ' +
          "Authorization. Set loki.username too (e.g. username: '123456').",
      );
      return undefined;
    }
    return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
  };
}

/** A credential given as a value or as a function returning the current value. */
function read(credential: LokiCredential): string | undefined {
  return typeof credential === 'function' ? credential() : credential;
}

/** `Retry-After` in ms: seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** A network error as a short line: its code and message. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
