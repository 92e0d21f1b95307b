import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { uncompress as snappyUncompress } from 'snappyjs';
import { checkLabels, parseLabelSelector } from './label-parser.js';
import { decodePushRequest, type DecodedStream } from './loki-push.proto.js';

/** A fault the fake answers instead of Loki's normal behaviour. */
export type FakeLokiFault =
  { kind: 'status'; status: number; body?: string; retryAfter?: string } | { kind: 'hang' };

export interface FakeLokiOptions {
  /** `ingestion_rate_mb` in bytes/s. Default: 4 MiB (Loki's default). */
  ingestionRateBytes?: number;
  /** `ingestion_burst_size_mb` in bytes. Default: 6 MiB (Loki's default). */
  burstBytes?: number;
  /** `max_line_size`. Default: 256 KiB. */
  maxLineBytes?: number;
  /** Act as Loki 2.x: JSON pushes carrying structured metadata get a 400; protobuf skips field 3. */
  legacy2x?: boolean;
  /**
   * With `legacy2x`: answer like Loki <= 2.8, whose JSON decoder knows no third entry element and
   * does not name structured metadata in its 400. Default false (the 3.x / 2.9 wording).
   */
  legacyDecoderMessage?: boolean;
  /** Answer 401 without `X-Scope-OrgID` (auth_enabled). Default: false (tenant `fake`). */
  requireTenant?: boolean;
}

export interface StoredEntry {
  tenant: string;
  labels: Record<string, string>;
  tsNs: bigint;
  line: string;
  metadata: Record<string, string>;
}

export interface PushRecord {
  at: number;
  status: number;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  headers: http.IncomingHttpHeaders;
  entries: number;
  bytes: number;
  /** Number of entries carrying structured metadata. */
  withMetadata: number;
  /** Timestamps (ns) of the entries of this push, in order. */
  timestamps: bigint[];
  error?: string;
}

const DAY_NS = 86_400_000_000_000n;

/** A protocol-faithful fake of Loki's push API (`POST /loki/api/v1/push`, `GET /ready`) on loopback. */
export class FakeLoki {
  readonly entries: StoredEntry[] = [];
  readonly pushes: PushRecord[] = [];
  /** Requests received while hanging (not answered). */
  hung = 0;
  /** Hung requests whose connection the client closed (an abort that really happened). */
  hungClosed = 0;
  ready = true;
  private faults: FakeLokiFault[] = [];
  private stickyFault: FakeLokiFault | undefined;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly lastOfStream = new Map<string, { ts: bigint; line: string }>();
  private readonly sockets = new Set<Socket>();
  private server: http.Server;
  private readonly rate: number;
  private readonly burst: number;
  private readonly maxLine: number;

  private constructor(
    readonly port: number,
    private readonly options: FakeLokiOptions,
  ) {
    this.rate = options.ingestionRateBytes ?? 4 * 1024 * 1024;
    this.burst = options.burstBytes ?? 6 * 1024 * 1024;
    this.maxLine = options.maxLineBytes ?? 256 * 1024;
    this.server = this.createServer();
  }

  static async start(options: FakeLokiOptions = {}, port = 0): Promise<FakeLoki> {
    const fake = new FakeLoki(port, options);
    await fake.listen(port);
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Answer the next `times` pushes with `fault`. */
  failNext(fault: FakeLokiFault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(fault);
  }

  /** Answer every push with `fault` until cleared with `undefined`. */
  setFault(fault: FakeLokiFault | undefined): void {
    this.stickyFault = fault;
  }

  /** Stop listening and reset open connections: clients get ECONNREFUSED. */
  async refuse(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listen again on the same port. */
  async accept(): Promise<void> {
    this.server = this.createServer();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  lines(): string[] {
    return this.entries.map((e) => e.line);
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    (this as { port: number }).port = (this.server.address() as AddressInfo).port;
  }

  private createServer(): http.Server {
    const server = http.createServer((req, res) =>
      // A client that aborts its upload (ECONNRESET while the body is read) ends that request only.
      this.handle(req, res).catch(() => res.destroy()),
    );
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return server;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/ready') {
      res
        .writeHead(this.ready ? 200 : 503)
        .end(this.ready ? 'ready\n' : 'Ingester not ready: waiting for 15s after being ready\n');
      return;
    }
    if (req.method !== 'POST' || req.url !== '/loki/api/v1/push') {
      res.writeHead(404).end('404 page not found\n');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const record: PushRecord = {
      at: Date.now(),
      status: 0,
      contentType: req.headers['content-type'],
      contentEncoding: req.headers['content-encoding'],
      headers: req.headers,
      entries: 0,
      bytes: 0,
      withMetadata: 0,
      timestamps: [],
    };
    this.pushes.push(record);
    const answer = (status: number, body = '', headers: Record<string, string> = {}): void => {
      record.status = status;
      if (status >= 400) record.error = body;
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(body);
    };

    const fault = this.faults.shift() ?? this.stickyFault;
    if (fault?.kind === 'hang') {
      this.hung++;
      record.status = -1;
      req.socket.once('close', () => this.hungClosed++);
      return; // never answer; the client must abort
    }

    let streams: DecodedStream[];
    try {
      streams = this.decode(req, raw);
    } catch (err) {
      return answer(400, `${(err as Error).message}\n`);
    }
    for (const s of streams) {
      record.entries += s.entries.length;
      for (const e of s.entries) {
        record.timestamps.push(e.tsNs);
        if (Object.keys(e.metadata).length > 0) record.withMetadata++;
      }
    }
    if (fault?.kind === 'status') {
      return answer(
        fault.status,
        fault.body ?? `fault ${fault.status}\n`,
        fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {},
      );
    }

    const tenantHeader = req.headers['x-scope-orgid'];
    if (this.options.requireTenant && !tenantHeader) return answer(401, 'no org id\n');
    const tenant = typeof tenantHeader === 'string' ? tenantHeader : 'fake';

    // Validation first (distributor.Push), collecting per-entry errors; valid entries are kept.
    const errors: string[] = [];
    const valid: StoredEntry[] = [];
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    let bytes = 0;
    for (const s of streams) {
      let labels: Record<string, string>;
      try {
        labels = parseLabelSelector(s.labels);
      } catch (err) {
        errors.push(`${(err as Error).message}`);
        continue;
      }
      const labelError = checkLabels(labels);
      if (labelError) {
        errors.push(labelError);
        continue;
      }
      if (this.options.legacy2x && s.entries.some((e) => Object.keys(e.metadata).length > 0)) {
        if (this.options.legacyDecoderMessage) {
          return answer(
            400,
            'loghttp.PushRequest.Streams: error reading entry: array must contains 2 values\n',
          );
        }
        return answer(
          400,
          `stream '${s.labels}' includes structured metadata, but this feature is disallowed. Please see \`limits_config.allow_structured_metadata\` or contact your Loki administrator to enable it.\n`,
        );
      }
      for (const e of s.entries) {
        const lineBytes = Buffer.byteLength(e.line);
        if (lineBytes > this.maxLine) {
          errors.push(
            `Max entry size '${this.maxLine}' bytes exceeded for stream '${s.labels}' while adding an entry with length '${lineBytes}' bytes`,
          );
          continue;
        }
        if (e.tsNs < nowNs - 7n * DAY_NS) {
          errors.push(`entry for stream '${s.labels}' has timestamp too old: ${e.tsNs}`);
          continue;
        }
        if (e.tsNs > nowNs + 600_000_000_000n) {
          errors.push(`entry for stream '${s.labels}' has timestamp too new: ${e.tsNs}`);
          continue;
        }
        let size = lineBytes;
        for (const [k, v] of Object.entries(e.metadata)) size += Buffer.byteLength(k) + Buffer.byteLength(v);
        bytes += size;
        valid.push({ tenant, labels, tsNs: e.tsNs, line: e.line, metadata: e.metadata });
      }
    }
    record.bytes = bytes;
    // Rate limit per tenant on the valid bytes (a token bucket, as Go's rate.Limiter.AllowN).
    if (!this.allow(tenant, bytes)) {
      return answer(
        429,
        `Ingestion rate limit exceeded for user ${tenant} (limit: ${this.rate} bytes/sec) while attempting to ingest '${valid.length}' lines totaling '${bytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased\n`,
      );
    }
    for (const e of valid) {
      // The ingester skips an entry equal (timestamp and line) to the stream's last one.
      const key = `${tenant}|${JSON.stringify(e.labels)}`;
      const last = this.lastOfStream.get(key);
      if (last && last.ts === e.tsNs && last.line === e.line) continue;
      this.lastOfStream.set(key, { ts: e.tsNs, line: e.line });
      this.entries.push(e);
    }
    if (errors.length > 0) return answer(400, `${errors.join('\n')}\n`);
    answer(204);
  }

  private decode(req: http.IncomingMessage, raw: Buffer): DecodedStream[] {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const encoding = req.headers['content-encoding'];
    if (type === 'application/x-protobuf' || type === '') {
      // Loki: protobuf bodies are snappy block-compressed (Content-Encoding not used).
      const body = snappyUncompress(new Uint8Array(raw));
      return decodePushRequest(body, this.options.legacy2x === true);
    }
    if (type !== 'application/json') throw new Error(`unsupported Content-Type: ${type}`);
    const text = (encoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
    const doc = JSON.parse(text) as { streams?: unknown };
    if (!Array.isArray(doc.streams)) throw new Error('loghttp.PushRequest: streams must be an array');
    return doc.streams.map((s: { stream?: Record<string, unknown>; values?: unknown }) => {
      if (!s.stream || typeof s.stream !== 'object') throw new Error('stream must be an object');
      if (!Array.isArray(s.values)) throw new Error('values must be an array');
      const labels = `{${Object.entries(s.stream)
        .map(([k, v]) => {
          if (typeof v !== 'string') throw new Error(`label value of ${k} must be a string`);
          return `${k}=${JSON.stringify(v)}`;
        })
        .join(', ')}}`;
      return {
        labels,
        entries: s.values.map((v: unknown) => {
          if (!Array.isArray(v) || v.length < 2 || v.length > 3)
            throw new Error('each value must be [ts, line] or [ts, line, metadata]');
          const [ts, line, md] = v as [unknown, unknown, unknown];
          if (typeof ts !== 'string' || !/^\d+$/.test(ts))
            throw new Error(`timestamp must be a string of nanoseconds: ${String(ts)}`);
          if (typeof line !== 'string') throw new Error('line must be a string');
          const metadata: Record<string, string> = {};
          if (md !== undefined) {
            if (md === null || typeof md !== 'object' || Array.isArray(md))
              throw new Error('structured metadata must be an object');
            for (const [k, val] of Object.entries(md)) {
              if (typeof val !== 'string') throw new Error(`structured metadata ${k} must be a string`);
              metadata[k] = val;
            }
          }
          return { tsNs: BigInt(ts), line, metadata };
        }),
      };
    });
  }

  private allow(tenant: string, n: number): boolean {
    const now = performance.now();
    let b = this.buckets.get(tenant);
    if (!b) this.buckets.set(tenant, (b = { tokens: this.burst, at: now }));
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    if (n > this.burst) return false; // never fits: 429 however often it is retried
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  }
}
