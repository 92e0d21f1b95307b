import http from 'node:http';
import https from 'node:https';
import type { Writable } from 'node:stream';
import { gzip } from 'node:zlib';
import { compress as snappyCompress } from 'snappyjs';
import TransportStream from 'winston-transport';
import { EntryQueue } from './entry-queue.js';
import { labelProblems, labelSelector, MAX_LABELS } from './loki-labels.js';
import type { LokiEntry } from './loki-entry.js';
import { LokiLoggerConfigError } from './loki-logger.errors.js';
import type { LokiShippingOptions, StructuredMetadataMode } from './loki-logger-options.interface.js';
import { LokiPushEncoder } from './loki-push-encoder.js';
import type { LokiDropCounts, LokiShipperStats } from './loki-shipper-stats.js';
import { LINE_RECORD, MESSAGE, type LineRecord } from './log-line.format.js';
import { StreamClock } from './stream-clock.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'] as const;
const PUSH_PATH = '/loki/api/v1/push';
/** Longest `Retry-After` honoured, so a bogus header cannot park shipping for hours. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;
/** A drop reason is reported on stderr at most this often. */
const NOTE_INTERVAL_MS = 60_000;
const MAX_ERROR_BODY = 4096;

interface PushResponse {
  status: number;
  body: string;
  retryAfterMs?: number;
}

type Outcome = 'ok' | 'drop' | 'resend' | 'retry' | 'empty';

interface FlushWaiter {
  resolve: (drained: boolean) => void;
  timer: NodeJS.Timeout;
}

/** Identity of the logger, for the `service_name` and `env` labels. */
export interface LokiTransportIdentity {
  service: string;
  env: string;
}

/**
 * The Loki shipper: a winston transport that never blocks the caller. `log()` only appends to a
 * bounded queue; one push at a time goes out in the background, batched by count, bytes and time,
 * retried on 429/5xx/network errors with backoff, dropped (and counted) on 400/413.
 */
export class LokiTransport extends TransportStream {
  private readonly queue = new EntryQueue();
  private readonly encoder: LokiPushEncoder;
  private readonly clocks: StreamClock[];
  private readonly levelStream: Map<string, number> | undefined;
  // #private: the URL may carry user:password, the headers credentials; inspect() must not show them.
  readonly #pushUrl: URL;
  readonly #readyUrl: URL;
  private readonly agent: http.Agent;
  readonly #baseHeaders: Record<string, string>;
  /** Built per request: the credential may be a function returning the current (rotated) value. */
  readonly #authorization: (() => string | undefined) | undefined;
  private readonly smMode: StructuredMetadataMode;
  private smEnabled: boolean;
  private readonly encoding: 'json' | 'protobuf';
  private readonly gzip: boolean;
  private readonly batchMaxEntries: number;
  private readonly batchMaxBytes: number;
  private readonly batchIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxBufferEntries: number;
  private readonly maxBufferBytes: number;
  private readonly maxLineBytes: number;
  readonly shutdownTimeoutMs: number;
  private readonly diagnostics: Writable;

  private sending = false;
  private stopped = false;
  private attempt = 0;
  private intervalTimer: NodeJS.Timeout | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  private inFlight: AbortController | undefined;
  /** End sequence of the batch being pushed (-1: none), and how many of its entries overflow dropped meanwhile. */
  private inFlightEnd = -1;
  private inFlightDropped = 0;
  private readonly waiters = new Set<FlushWaiter>();
  private readonly lastNote = new Map<string, { at: number; suppressed: number }>();
  private warnedMetadata = false;
  /** Rate limit of the "credential missing at push time" report. */
  private lastCredentialNote: { at: number; suppressed: number } | undefined;
  /** Loki took a push carrying structured metadata: a later 400 is about something else. */
  private metadataAccepted = false;

  private sent = 0;
  private retries = 0;
  private truncated = 0;
  private readonly dropped: LokiDropCounts = {
    bufferFull: 0,
    badRequest: 0,
    tooLarge: 0,
    rejected: 0,
    shutdown: 0,
  };
  private lastSuccessAt: number | undefined;
  private lastFailureAt: number | undefined;
  private lastDropAt: number | undefined;
  private lastError: string | undefined;
  private consecutiveFailures = 0;

  constructor(options: LokiShippingOptions, identity: LokiTransportIdentity) {
    super();
    const problems = lokiShippingProblems(options, identity);
    if (problems.length > 0) throw new LokiLoggerConfigError(problems);
    const labels = streamLabels(options, identity);
    if (options.levelLabel === true) {
      this.levelStream = new Map(LEVELS.map((level, i) => [level, i]));
      const sets = LEVELS.map((level) => ({ ...labels, level }));
      this.encoder = new LokiPushEncoder(
        sets.map((s) => JSON.stringify(s)),
        sets.map(labelSelector),
      );
    } else {
      this.encoder = new LokiPushEncoder([JSON.stringify(labels)], [labelSelector(labels)]);
    }
    this.clocks = (this.levelStream ? LEVELS : [0]).map(() => new StreamClock());

    const base = baseUrl(options.url);
    this.#pushUrl = new URL(`${base}${PUSH_PATH}`);
    this.#readyUrl = new URL(`${base}/ready`);
    const isHttps = this.#pushUrl.protocol === 'https:';
    // Keep-alive sockets are unref'd by Node's agent while idle: they never hold the process open.
    this.agent = isHttps
      ? new https.Agent({ keepAlive: true, maxSockets: 2 })
      : new http.Agent({ keepAlive: true, maxSockets: 2 });

    this.#baseHeaders = { ...options.headers };
    if (options.tenant) this.#baseHeaders['X-Scope-OrgID'] = options.tenant;
    const { username, password, bearerToken } = options;
    if (bearerToken !== undefined) {
      this.#authorization = () => {
        const token = read(bearerToken);
        return token ? `Bearer ${token}` : undefined;
      };
    } else if (password !== undefined) {
      // Static half-credentials were refused at boot; a function is only known per push. An empty
      // user and password is "no auth" (a dev setup with nothing configured), never `Basic Og==`.
      const user = username ?? '';
      this.#authorization = () => {
        const secret = read(password);
        if (!secret) {
          if (user)
            this.credentialNote(
              'loki.password returned no value although loki.username is set: pushing without ' +
                'Authorization (Loki will likely answer 401). Check the secret loki.password reads.',
            );
          return undefined;
        }
        if (!user) {
          this.credentialNote(
            'loki.password returned a value but loki.username is empty: pushing without ' +
              "Authorization. Set loki.username too (e.g. username: '123456').",
          );
          return undefined;
        }
        return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
      };
    }

    this.smMode = options.structuredMetadata ?? 'auto';
    this.smEnabled = this.smMode !== 'never';
    this.encoding = options.encoding ?? 'json';
    this.gzip = options.gzip ?? true;
    this.batchMaxEntries = positive(options.batchMaxEntries, 5000);
    this.batchMaxBytes = positive(options.batchMaxBytes, 1024 * 1024);
    this.batchIntervalMs = positive(options.batchIntervalMs, 1000);
    this.timeoutMs = positive(options.timeoutMs, 10_000);
    this.minBackoffMs = positive(options.minBackoffMs, 500);
    this.maxBackoffMs = positive(options.maxBackoffMs, 30_000);
    this.maxBufferEntries = positive(options.maxBufferEntries, 10_000);
    this.maxBufferBytes = positive(options.maxBufferBytes, 8 * 1024 * 1024);
    this.maxLineBytes = positive(options.maxLineBytes, 256 * 1024);
    this.shutdownTimeoutMs = positive(options.shutdownTimeoutMs, 5000);
    this.diagnostics = options.diagnostics ?? process.stderr;
  }

  // ---------------------------------------------------------------- hot path

  override log(info: Record<symbol, unknown>, next: () => void): void {
    this.enqueue(info[MESSAGE] as string, info[LINE_RECORD] as LineRecord | undefined);
    next();
  }

  /** Appends one finished line; never waits. */
  enqueue(rawLine: string, rec: LineRecord | undefined): void {
    if (this.stopped) {
      this.dropped.shutdown++;
      this.lastDropAt = Date.now();
      return;
    }
    const line = this.truncate(rawLine);
    const stream =
      this.levelStream === undefined || rec === undefined ? 0 : (this.levelStream.get(rec.level) ?? 3);
    const [ms, sub] = this.clocks[stream]!.next(Date.now());
    let metadata: Array<readonly [string, string]> | undefined;
    let size = line.length;
    if (this.smEnabled && rec !== undefined) {
      if (rec.requestId !== undefined) (metadata ??= []).push(['request_id', rec.requestId]);
      if (rec.userId !== undefined) (metadata ??= []).push(['user_id', rec.userId]);
      if (rec.traceId !== undefined) (metadata ??= []).push(['trace_id', rec.traceId]);
      if (metadata !== undefined) for (const [k, v] of metadata) size += k.length + v.length;
    }
    const entry: LokiEntry = { ms, sub, line, metadata, stream, size };
    this.queue.push(entry);
    if (this.queue.length > this.maxBufferEntries || this.queue.bytes > this.maxBufferBytes) this.overflow();
    this.pump();
  }

  private truncate(line: string): string {
    // Cheap test first: a UTF-8 byte is at most 3 UTF-16 units' worth per unit.
    if (line.length * 3 <= this.maxLineBytes) return line;
    const bytes = Buffer.byteLength(line);
    if (bytes <= this.maxLineBytes) return line;
    this.truncated++;
    const marker = `…[truncated ${bytes} bytes to ${this.maxLineBytes}]`;
    const keep = this.maxLineBytes - Buffer.byteLength(marker);
    // Cut on a byte budget, then drop a possibly split last character.
    const cut = Buffer.from(line, 'utf8')
      .subarray(0, keep)
      .toString('utf8')
      .replace(/\uFFFD$/, '');
    return cut + marker;
  }

  private overflow(): void {
    let n = 0;
    while (this.queue.length > this.maxBufferEntries || this.queue.bytes > this.maxBufferBytes) {
      // An entry of the batch in flight leaves the buffer, but its fate is Loki's answer (see settle).
      if (this.queue.firstSeq < this.inFlightEnd) this.inFlightDropped++;
      this.queue.dropOldest();
      n++;
    }
    this.dropped.bufferFull += n;
    this.lastDropAt = Date.now();
    this.note(
      'bufferFull',
      n,
      'the buffer is full (Loki unreachable or too slow); the oldest lines were dropped',
    );
  }

  // ---------------------------------------------------------------- sending

  private pump(): void {
    if (this.sending || this.backoffTimer !== undefined || this.stopped || this.queue.length === 0) return;
    if (
      this.waiters.size > 0 ||
      this.queue.length >= this.batchMaxEntries ||
      this.queue.bytes >= this.batchMaxBytes
    ) {
      this.clearInterval();
      void this.run();
    } else if (this.intervalTimer === undefined) {
      this.intervalTimer = setTimeout(() => {
        this.intervalTimer = undefined;
        if (!this.sending && this.backoffTimer === undefined && !this.stopped && this.queue.length > 0)
          void this.run();
      }, this.batchIntervalMs);
      this.intervalTimer.unref();
    }
  }

  private async run(): Promise<void> {
    this.sending = true;
    let outcome: Outcome;
    let retryAfterMs: number | undefined;
    try {
      [outcome, retryAfterMs] = await this.pushBatch();
    } catch (err) {
      // Encoding failures are bugs, not outages: report and drop nothing silently.
      this.failure(`push failed: ${describe(err)}`);
      outcome = 'retry';
    }
    this.sending = false;
    if (this.stopped) return this.settleWaiters();
    if (outcome === 'retry') {
      this.attempt++;
      this.retries++;
      let delay = retryAfterMs ?? this.backoff(this.attempt);
      // A pending flush (shutdown) should not sit out a long backoff.
      if (this.waiters.size > 0 && retryAfterMs === undefined) delay = Math.min(delay, 1000);
      this.backoffTimer = setTimeout(() => {
        this.backoffTimer = undefined;
        if (!this.stopped && !this.sending && this.queue.length > 0) void this.run();
        else this.settleWaiters();
      }, delay);
      this.backoffTimer.unref();
      return;
    }
    if (outcome !== 'resend') this.attempt = 0;
    this.settleWaiters();
    if (this.queue.length === 0) return;
    if (outcome === 'resend') {
      void this.run();
      return;
    }
    this.pump();
  }

  /** Exponential backoff with jitter: a random delay in [base/2, base]. */
  private backoff(attempt: number): number {
    const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  private async pushBatch(): Promise<[Outcome, number?]> {
    const { entries, endSeq } = this.queue.peek(this.batchMaxEntries, this.batchMaxBytes);
    if (entries.length === 0) return ['empty'];
    // From here the batch's entries may be dropped by overflow (during encoding or the request).
    this.inFlightEnd = endSeq;
    this.inFlightDropped = 0;
    const withMetadata = this.smEnabled;
    const hasMetadata = withMetadata && entries.some((e) => e.metadata !== undefined);
    const headers = this.headers();
    let body: Buffer;
    if (this.encoding === 'protobuf') {
      body = Buffer.from(snappyCompress(this.encoder.protobuf(entries, withMetadata)));
      headers['Content-Type'] = 'application/x-protobuf';
    } else {
      body = Buffer.from(this.encoder.json(entries, withMetadata), 'utf8');
      headers['Content-Type'] = 'application/json';
      if (this.gzip) {
        body = await gzipAsync(body);
        headers['Content-Encoding'] = 'gzip';
      }
    }
    if (this.stopped) {
      this.inFlightEnd = -1;
      return ['retry'];
    }
    let res: PushResponse;
    try {
      res = await this.request('POST', this.#pushUrl, headers, body, this.timeoutMs);
    } catch (err) {
      this.failure(describe(err));
      return ['retry'];
    } finally {
      this.inFlightEnd = -1;
    }
    // Entries of this batch dropped by overflow while it was in flight were counted `bufferFull`;
    // if Loki took the batch they were delivered, and if it refused it they share its reason.
    const overlap = this.inFlightDropped;
    this.inFlightDropped = 0;
    if (res.status >= 200 && res.status < 300) {
      this.dropped.bufferFull -= overlap;
      if (hasMetadata) this.metadataAccepted = true;
      this.sent += overlap + this.queue.removeBefore(endSeq);
      this.lastSuccessAt = Date.now();
      this.consecutiveFailures = 0;
      // `lastError` describes the current trouble: a recovered shipper must not look failing.
      this.lastError = undefined;
      return ['ok'];
    }
    const detail = `Loki answered ${res.status}: ${res.body.slice(0, 300).trim()}`;
    if (res.status === 429 || res.status >= 500) {
      this.failure(detail);
      const after =
        res.retryAfterMs === undefined ? undefined : Math.min(res.retryAfterMs, MAX_RETRY_AFTER_MS);
      return ['retry', after];
    }
    this.consecutiveFailures = 0;
    this.lastError = detail;
    if (
      res.status === 400 &&
      hasMetadata &&
      this.smMode === 'auto' &&
      (/structured.?metadata/i.test(res.body) || !this.metadataAccepted)
    ) {
      // Loki 2.x (or a pre-v13 schema) refuses structured metadata and would drop every line:
      // the ids are in the JSON line anyway, so stop sending metadata and re-send this batch.
      // Loki 3 and 2.9 name the feature in the 400; older 2.x JSON decoders only complain that an
      // entry is not a 2-element array, so a 400 before any metadata push was accepted counts too
      // (a genuine bad request then costs one extra push without metadata, and is dropped).
      this.smEnabled = false;
      if (!this.warnedMetadata) {
        this.warnedMetadata = true;
        this.diag(
          `Loki does not accept structured metadata (${detail.slice(0, 200)}); ` +
            `request/user/trace ids stay in the JSON line only. Set loki.structuredMetadata: 'never' to silence this.`,
        );
      }
      return ['resend'];
    }
    const reason: keyof LokiDropCounts =
      res.status === 400 ? 'badRequest' : res.status === 413 ? 'tooLarge' : 'rejected';
    const n = this.queue.removeBefore(endSeq) + overlap;
    this.dropped.bufferFull -= overlap;
    this.dropped[reason] += n;
    this.lastDropAt = Date.now();
    this.note(reason, n, detail);
    return ['drop'];
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { ...this.#baseHeaders };
    const auth = this.#authorization?.();
    if (auth !== undefined) headers.Authorization = auth;
    return headers;
  }

  private failure(detail: string): void {
    this.consecutiveFailures++;
    this.lastFailureAt = Date.now();
    this.lastError = detail;
  }

  private request(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: Buffer | undefined,
    timeoutMs: number,
  ): Promise<PushResponse> {
    return new Promise<PushResponse>((resolve, reject) => {
      const controller = new AbortController();
      this.inFlight = controller;
      let settled = false;
      const finish = (err: Error | undefined, res?: PushResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.inFlight === controller) this.inFlight = undefined;
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
          agent: this.agent,
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
            const retryAfter = parseRetryAfter(res.headers['retry-after']);
            finish(undefined, {
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY),
              retryAfterMs: retryAfter,
            });
          });
        },
      );
      req.on('error', (err) => finish(err));
      req.end(body);
    });
  }

  // ---------------------------------------------------------------- flush / shutdown

  /**
   * Sends everything buffered. Resolves `true` once the buffer is empty (sent or dropped), `false`
   * when `timeoutMs` passes first. Never rejects.
   */
  flush(timeoutMs: number = this.shutdownTimeoutMs): Promise<boolean> {
    if (this.queue.length === 0 && !this.sending) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter: FlushWaiter = {
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(false);
        }, timeoutMs),
      };
      waiter.timer.unref();
      this.waiters.add(waiter);
      if (this.backoffTimer !== undefined) {
        // Try now instead of waiting out the backoff: the caller has a deadline.
        clearTimeout(this.backoffTimer);
        this.backoffTimer = undefined;
      }
      this.pump();
    });
  }

  /**
   * Flushes with a deadline, then stops: aborts a pending push, counts what is left as dropped
   * (`shutdown`), closes the sockets. Later lines still reach stdout, not Loki.
   */
  async shutdown(timeoutMs: number = this.shutdownTimeoutMs): Promise<void> {
    if (this.stopped) return;
    const drained = await this.flush(timeoutMs);
    this.stopped = true;
    this.clearInterval();
    if (this.backoffTimer !== undefined) clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.inFlight?.abort();
    const left = this.queue.removeBefore(this.queue.endSeq);
    if (left > 0) {
      this.dropped.shutdown += left;
      this.lastDropAt = Date.now();
      this.diag(
        `shutdown: ${left} lines not delivered to Loki within ${timeoutMs} ms${drained ? '' : ' (flush deadline passed)'}`,
      );
    }
    // Drops reported only as "first of a minute" get their totals before the process goes.
    if ([...this.lastNote.values()].some((n) => n.suppressed > 0)) {
      const totals = Object.entries(this.dropped)
        .filter(([, n]) => n > 0)
        .map(([reason, n]) => `${reason}=${n}`)
        .join(', ');
      this.diag(`lines dropped in total: ${totals}; sent: ${this.sent}`);
    }
    this.settleWaiters();
    this.agent.destroy();
  }

  /** winston's `logger.close()` hook. */
  override close(): void {
    void this.shutdown();
  }

  /** GET `/ready` of Loki (for the health indicator), within `timeoutMs`. */
  async ready(timeoutMs: number): Promise<{ ready: boolean; detail: string }> {
    try {
      const res = await this.request('GET', this.#readyUrl, this.headers(), undefined, timeoutMs);
      return { ready: res.status === 200, detail: `${res.status} ${res.body.slice(0, 100).trim()}` };
    } catch (err) {
      return { ready: false, detail: describe(err) };
    }
  }

  stats(): LokiShipperStats {
    return {
      sent: this.sent,
      dropped: { ...this.dropped },
      retries: this.retries,
      truncated: this.truncated,
      bufferedEntries: this.queue.length,
      bufferedBytes: this.queue.bytes,
      bufferFill: Math.max(this.queue.length / this.maxBufferEntries, this.queue.bytes / this.maxBufferBytes),
      lastSuccessAt: this.lastSuccessAt,
      lastFailureAt: this.lastFailureAt,
      lastDropAt: this.lastDropAt,
      lastError: this.lastError,
      consecutiveFailures: this.consecutiveFailures,
      structuredMetadata: this.smEnabled,
    };
  }

  private settleWaiters(): void {
    if (this.waiters.size === 0) return;
    if (this.queue.length > 0 && !this.stopped) return;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(this.queue.length === 0);
    }
    this.waiters.clear();
  }

  private clearInterval(): void {
    if (this.intervalTimer !== undefined) clearTimeout(this.intervalTimer);
    this.intervalTimer = undefined;
  }

  /** Reports a drop on stderr, at most once a minute per reason (with the count of the quiet ones). */
  private note(reason: string, count: number, detail: string): void {
    const now = Date.now();
    const last = this.lastNote.get(reason);
    if (last !== undefined && now - last.at < NOTE_INTERVAL_MS) {
      last.suppressed += count;
      return;
    }
    const earlier =
      last !== undefined && last.suppressed > 0 ? ` (+${last.suppressed} since the last report)` : '';
    this.lastNote.set(reason, { at: now, suppressed: 0 });
    this.diag(`dropped ${count} lines${earlier} [${reason}]: ${detail}`);
  }

  /** Reports a credential missing at push time, at most once a minute (with the count meanwhile). */
  private credentialNote(text: string): void {
    const now = Date.now();
    const last = this.lastCredentialNote;
    if (last !== undefined && now - last.at < NOTE_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    const earlier =
      last !== undefined && last.suppressed > 0
        ? ` (+${last.suppressed} requests since the last report)`
        : '';
    this.lastCredentialNote = { at: now, suppressed: 0 };
    this.diag(`${text}${earlier}`);
  }

  private diag(text: string): void {
    this.diagnostics.write(`[@bastion/loki-logger] ${text}\n`);
  }
}

/** The label set of the stream(s): `service_name`, `env` and the static extras. */
function streamLabels(options: LokiShippingOptions, identity: LokiTransportIdentity): Record<string, string> {
  return { service_name: identity.service, env: identity.env, ...options.labels };
}

/** `url` without trailing slashes and without the push path (both are accepted). */
function baseUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/loki\/api\/v1\/push$/, '');
}

/**
 * Every problem of the shipping options, each naming the option and giving a valid example (empty
 * when they are valid). Credential values are never part of a message.
 */
export function lokiShippingProblems(
  options: LokiShippingOptions,
  identity: LokiTransportIdentity,
): string[] {
  const problems: string[] = [];
  problems.push(...urlProblems(options.url));
  const labels = streamLabels(options, identity);
  problems.push(...labelProblems(labels));
  if (options.levelLabel === true && Object.keys(labels).length >= MAX_LABELS) {
    problems.push(`loki.levelLabel: no room for the level label (at most ${MAX_LABELS} labels in all)`);
  }
  const { username, password, bearerToken } = options;
  if (bearerToken === undefined) {
    // A function password is resolved per push (see the constructor); only static halves are known now.
    if (typeof password === 'string' && password !== '' && !username) {
      problems.push(
        "loki.password is set but loki.username is empty: Basic auth needs both (e.g. username: '123456', " +
          'the Grafana Cloud user id), or remove loki.password',
      );
    }
    if (username && (password === undefined || password === '')) {
      problems.push(
        'loki.username is set but loki.password is missing: Basic auth needs both ' +
          "(e.g. password: () => secrets.get('loki_password')), or remove loki.username",
      );
    }
  }
  return problems;
}

function urlProblems(url: unknown): string[] {
  const expected = 'expected the base URL of Loki or its gateway, e.g. "http://loki:3100"';
  if (typeof url !== 'string' || url.trim() === '') return [`loki.url is missing: ${expected}`];
  let parsed: URL | undefined;
  try {
    parsed = new URL(`${baseUrl(url)}${PUSH_PATH}`);
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.host)
    return [];
  // `loki:3100` parses as the scheme `loki:`: the usual mistake is a missing `http://`.
  const hint = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? '' : ' (the scheme is missing)';
  return [`loki.url ${JSON.stringify(shownUrl(url))} is not an http(s) URL${hint}: ${expected}`];
}

/**
 * A URL as it may appear in an error: `user:password@` (even unencoded, even without a scheme) is
 * hidden up to the last `@`, and the query (which may hold a token) is cut off.
 */
function shownUrl(url: string): string {
  let shown = url;
  const at = shown.lastIndexOf('@');
  if (at !== -1) {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(shown)?.[0] ?? '';
    shown = `${scheme}***@${shown.slice(at + 1)}`;
  }
  const query = shown.search(/[?#]/);
  return query === -1 ? shown : `${shown.slice(0, query)}?…`;
}

/** A credential given as a value or as a function returning the current value. */
function read(v: string | (() => string | undefined) | undefined): string | undefined {
  return typeof v === 'function' ? v() : v;
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function gzipAsync(body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => gzip(body, (err, out) => (err ? reject(err) : resolve(out))));
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
