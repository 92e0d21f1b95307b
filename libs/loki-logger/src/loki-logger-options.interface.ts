import type { Writable } from 'node:stream';
import type { LokiLogLevel } from './log-levels.js';

/** Output format of the stdout line. */
export type LokiLoggerFormat = 'json' | 'pretty';

export type { LokiLogLevel } from './log-levels.js';

/** Whether request/user/trace ids also travel to Loki as structured metadata. */
export type StructuredMetadataMode = 'auto' | 'always' | 'never';

/** Wire encoding of a push request. */
export type LokiEncoding = 'json' | 'protobuf';

/** Options of the direct Loki shipper (`LokiTransport`). */
export interface LokiShippingOptions {
  /**
   * Base URL of Loki (or of its gateway), e.g. `http://loki:3100`. The push path
   * `/loki/api/v1/push` is appended. Required: shipping is on when this is set.
   */
  readonly url: string;
  /** `X-Scope-OrgID` tenant. Default: none (single-tenant Loki uses `fake`). */
  readonly tenant?: string;
  /** Basic auth user. Default: none. Used with `password`. */
  readonly username?: string;
  /**
   * Basic auth password (take it from `@bastion/secrets`). Default: none. It is never logged,
   * never part of health details, and its value is added to the redaction list. A function is
   * called for every push, so a rotated secret is picked up without a restart:
   * `password: () => secrets.get('loki_password')`.
   */
  readonly password?: string | (() => string | undefined);
  /** Bearer token (alternative to basic auth). Default: none. Same rules as `password`. */
  readonly bearerToken?: string | (() => string | undefined);
  /** Extra HTTP headers on every push. Default: none. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Extra static labels next to `service_name` and `env`. Default: none. Names must match
   * `[a-zA-Z_][a-zA-Z0-9_]*` (no `__` prefix) and the total stays at most 15 (Loki's default
   * `max_label_names_per_series`); never put request or user ids here (stream explosion).
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Add `level` as a label. Default: `false`: Loki's best practice is to filter on the line
   * (`| json | level="error"`, or `detected_level`) rather than multiply streams.
   */
  readonly levelLabel?: boolean;
  /** Wire encoding. Default: `'json'` (gzip-compressed, pure JS); `'protobuf'` uses snappy. */
  readonly encoding?: LokiEncoding;
  /** Gzip JSON pushes. Default: `true` (logs compress ~10x; gzip runs on the libuv threadpool). */
  readonly gzip?: boolean;
  /**
   * Structured metadata (`request_id`, `user_id`, `trace_id`). Default: `'auto'`: send it, and if
   * Loki refuses it (Loki 2.x, or 3.x with a pre-v13 schema), switch it off, warn once and re-send
   * that batch. Refused means a 400 that names structured metadata, or any 400 to a push carrying
   * metadata before Loki has accepted one (older 2.x decoders only say an entry is malformed). The
   * ids are always in the JSON line too, so nothing is lost either way. `'always'` never falls back;
   * `'never'` never sends it.
   */
  readonly structuredMetadata?: StructuredMetadataMode;
  /** Flush when this many entries wait. Default: `5000`. */
  readonly batchMaxEntries?: number;
  /**
   * Flush when this many bytes wait (UTF-8 bytes of the lines and structured metadata, as Loki
   * counts them).
   * Default: 1 MiB, as Loki's own clients: well under Loki's 6 MB burst, which a single push must
   * never exceed (such a push is answered 429 forever).
   */
  readonly batchMaxBytes?: number;
  /** Flush at least this often (ms). Default: `1000`, as Loki's clients. */
  readonly batchIntervalMs?: number;
  /** Per-request deadline (ms); the request is aborted when it passes. Default: `10000`. */
  readonly timeoutMs?: number;
  /** First retry delay (ms), at most `maxBackoffMs`. Default: `500` (Loki client's `min_backoff`). */
  readonly minBackoffMs?: number;
  /** Longest retry delay (ms). Default: `30000`: an outage is retried forever, the buffer bounds memory. */
  readonly maxBackoffMs?: number;
  /** Maximum buffered entries; the oldest are dropped beyond it. Default: `10000`. */
  readonly maxBufferEntries?: number;
  /** Maximum buffered bytes (UTF-8, as `batchMaxBytes`); the oldest are dropped beyond it. Default: 8 MiB. */
  readonly maxBufferBytes?: number;
  /**
   * Lines longer than this (UTF-8 bytes) are truncated with a marker. Default: 256 KiB, Loki's
   * `max_line_size` (a longer line would be rejected with a 400 and lost).
   */
  readonly maxLineBytes?: number;
  /** Deadline (ms) of the final flush on application shutdown. Default: `5000`. */
  readonly shutdownTimeoutMs?: number;
  /** Where rate-limited delivery problems are reported. Default: `process.stderr`. */
  readonly diagnostics?: Writable;
}

/** Options of the request-context middleware. */
export interface RequestContextOptions {
  /**
   * Apply the middleware to every route. Default: `true`. Set `false` to apply
   * `RequestContextMiddleware` yourself (e.g. only on some routes).
   */
  readonly enabled?: boolean;
  /** Header read and echoed. Default: `'x-request-id'`. */
  readonly header?: string;
  /**
   * Makes the id of a request whose header is missing or invalid (nestjs-pino's `genReqId`), e.g.
   * `() => \`orders-${randomUUID()}\``. A valid incoming id still wins, so an id set upstream is
   * never replaced. The result must pass the incoming-id rule (1-128 characters from
   * `[A-Za-z0-9._:@/+=-]`); an invalid result, or a throw, gives a UUID and one warning.
   * Default: none (a UUID).
   */
  readonly genReqId?: (req: any, res: any) => string;
  /**
   * Finds the user id on the request; called lazily (when a line is written), so it also sees
   * what a later middleware (session, auth guard) attached. Default: `req.user?.id ?? req.user?.sub`.
   * Return `undefined` when unknown.
   */
  readonly userId?: (req: any) => unknown;
  /** Log one line per completed request (method, route, status, duration, request id). Default: `true`. */
  readonly logRequests?: boolean;
  /** Paths (exact, or prefix ending in `*`) not logged on completion. Default: `['/health*']` (probes are noise). */
  readonly excludeFromRequestLog?: readonly string[];
}

/** Options of `LokiLoggerModule.forRoot()` / `forRootAsync()`. */
export interface LokiLoggerModuleOptions {
  /** Service name: the `service` field and the `service_name` label. Required. */
  readonly service: string;
  /** Environment (`production`, `staging`...): the `env` field and label. Default: `process.env.NODE_ENV ?? 'development'`. */
  readonly env?: string;
  /** Minimum level. Default: `'info'` (debug lines cost CPU and Loki bytes in production). */
  readonly level?: LokiLogLevel;
  /**
   * stdout format. Default: `'pretty'` when the `LOG_FORMAT` environment variable is `pretty`,
   * else `'json'` (what collectors and Loki parse). `'pretty'` prints coloured human lines for
   * local development; lines shipped to Loki stay JSON.
   */
  readonly format?: LokiLoggerFormat;
  /** Colours in `pretty` format. Default: on unless `NO_COLOR` is set or stdout is not a TTY. */
  readonly colors?: boolean;
  /** Where lines go. Default: `process.stdout` (the container log the platform collects). */
  readonly stream?: Writable;
  /**
   * Bytes of log lines held while stdout is slow, when lines go to `process.stdout`. Default
   * `16777216` (16 MiB). The lines of one event-loop turn are written together, asynchronously, so
   * a line costs no system call and a stdout that blocks (a full pipe, a stalled log driver) never
   * blocks the app. Past this many bytes, lines are dropped and counted (`stdoutStats().dropped`,
   * a line on stderr at most once a minute) rather than let memory grow. What is left is written
   * synchronously when the process exits, unless stdout took nothing for a second (exit would
   * hang). `0` writes each line synchronously through `process.stdout` instead (it blocks while
   * stdout does).
   */
  readonly stdoutBufferBytes?: number;
  /**
   * Metadata keys whose values are masked, case-insensitive, at any depth. Default:
   * `['password', 'authorization', 'cookie', 'token', 'secret', 'apiKey']`. Giving a list
   * replaces the default; the key also matches `key=value` / `key: value` in messages and stacks.
   */
  readonly redactKeys?: readonly string[];
  /**
   * Extra literal values to mask in every line (in addition to every value of `@bastion/secrets`'
   * registry, when the app imports `SecretsModule`). Default: none.
   */
  readonly redactValues?: readonly string[];
  /**
   * Secret values shorter than this are not masked. Default: `4`: masking every "a" or "1"
   * would destroy the logs while such a value protects nothing.
   */
  readonly minRedactLength?: number;
  /** Replacement text. Default: `'[REDACTED]'`. */
  readonly redactCensor?: string;
  /**
   * Warn once at boot (one `warn` line) when no `SecretRedactionSource` is visible to the module, i.e.
   * `SecretsModule` is missing or not global, so secret values would be logged in clear. Default:
   * `true`. Set `false` in an app that deliberately has no `@bastion/secrets` registry.
   */
  readonly warnIfNoRedactionSource?: boolean;
  /** Request context middleware. Default: on, see `RequestContextOptions`. */
  readonly requestContext?: RequestContextOptions;
  /** Direct shipping to Loki. Default: off (stdout only; a collector ships the container log). */
  readonly loki?: LokiShippingOptions;
}
