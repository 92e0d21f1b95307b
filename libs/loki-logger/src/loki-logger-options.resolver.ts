import type { Writable } from 'node:stream';
import * as v from 'valibot';
import { isLokiLogLevel, LOKI_LOG_LEVEL_NAMES, type LokiLogLevel } from './log-levels.js';
import { labelProblems, MAX_LABELS } from './loki-labels.js';
import type {
  LokiEncoding,
  LokiLoggerFormat,
  LokiLoggerModuleOptions,
  LokiShippingOptions,
  StructuredMetadataMode,
} from './loki-logger-options.interface.js';
import { LokiLoggerConfigError } from './loki-logger.errors.js';
import { DEFAULT_REDACT_KEYS } from './secret-redactor.js';
import { DEFAULT_STDOUT_BUFFER_BYTES } from './stdout-destination.js';

/** Identity of the logger, for the `service_name` and `env` labels. */
export interface LokiTransportIdentity {
  readonly service: string;
  readonly env: string;
}

/** A credential given as a value or as a function returning the current value. */
export type LokiCredential = string | (() => string | undefined);

/** `loki` options with every default applied, frozen. Internal. */
export interface ResolvedLokiShippingOptions {
  /** Base URL: no trailing slash, no push path. May carry `user:password@`: never print it. */
  readonly url: string;
  /** `service_name`, `env` and the static extras. */
  readonly labels: Readonly<Record<string, string>>;
  readonly levelLabel: boolean;
  readonly tenant: string | undefined;
  readonly username: string | undefined;
  readonly password: LokiCredential | undefined;
  readonly bearerToken: LokiCredential | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly encoding: LokiEncoding;
  readonly gzip: boolean;
  readonly structuredMetadata: StructuredMetadataMode;
  readonly batchMaxEntries: number;
  readonly batchMaxBytes: number;
  readonly batchIntervalMs: number;
  readonly timeoutMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxBufferEntries: number;
  readonly maxBufferBytes: number;
  readonly maxLineBytes: number;
  readonly shutdownTimeoutMs: number;
  readonly diagnostics: Writable;
}

/** Request-context options with every default applied. Internal. */
export interface ResolvedRequestContextOptions {
  readonly enabled: boolean;
  readonly header: string;
  readonly genReqId: ((req: any, res: any) => string) | undefined;
  readonly userId: ((req: any) => unknown) | undefined;
  readonly logRequests: boolean;
  readonly excludeFromRequestLog: readonly string[];
}

/** Module options with every default applied, frozen: what the providers inject. Internal. */
export interface ResolvedLokiLoggerOptions {
  readonly service: string;
  readonly env: string;
  readonly level: LokiLogLevel;
  readonly format: LokiLoggerFormat;
  readonly colors: boolean;
  readonly stream: Writable;
  readonly stdoutBufferBytes: number;
  readonly redactKeys: readonly string[];
  readonly redactValues: readonly string[];
  readonly minRedactLength: number;
  readonly redactCensor: string;
  readonly warnIfNoRedactionSource: boolean;
  readonly requestContext: ResolvedRequestContextOptions;
  readonly loki: ResolvedLokiShippingOptions | undefined;
}

/** Defaults of the shipper, each explained on its option. */
export const LOKI_SHIPPING_DEFAULTS = Object.freeze({
  batchMaxEntries: 5000,
  batchMaxBytes: 1024 * 1024,
  batchIntervalMs: 1000,
  timeoutMs: 10_000,
  minBackoffMs: 500,
  maxBackoffMs: 30_000,
  maxBufferEntries: 10_000,
  maxBufferBytes: 8 * 1024 * 1024,
  maxLineBytes: 256 * 1024,
  shutdownTimeoutMs: 5000,
});

export const PUSH_PATH = '/loki/api/v1/push';

// ------------------------------------------------------------------------------------------ schema
// Each message is the rest of a problem line after the option's path: what is wrong, the value given
// (never a credential: those options say "set", "empty" or the type) and an example of a valid one.

function shownValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return String(value);
}

const got = (issue: v.BaseIssue<unknown>): string => shownValue(issue.input);

/** A credential's type only, never its value. */
const gotType = (issue: v.BaseIssue<unknown>): string =>
  Array.isArray(issue.input) ? 'an array' : issue.input === null ? 'null' : `a ${typeof issue.input}`;

const boolean = (example: string) =>
  v.optional(v.boolean((i) => `must be true or false (got ${got(i)}); e.g. ${example}`));

const func = (example: string) =>
  v.optional(v.function((i) => `must be a function (got ${got(i)}); e.g. ${example}`));

const string = (example: string) =>
  v.optional(v.string((i) => `must be a string (got ${got(i)}); e.g. ${example}`));

const stringList = (example: string) =>
  v.optional(
    v.array(
      v.string((i) => `must be a string (got ${got(i)}); e.g. ${example}`),
      (i) => `must be an array of strings (got ${got(i)}); e.g. [${example}]`,
    ),
  );

const stringRecord = (example: string) =>
  v.optional(
    v.record(
      v.string(),
      v.string((i) => `must be a string (got ${got(i)}); e.g. ${example}`),
      (i) => `must be an object of strings (got ${got(i)}); e.g. { ${example} }`,
    ),
  );

const credentialSchema = (example: string) =>
  v.optional(
    v.union(
      [v.string(), v.function()],
      (i) => `must be a string or a function returning one (got ${gotType(i)}); e.g. ${example}`,
    ),
  );

const writable = (example: string) =>
  v.optional(
    v.custom<Writable>(
      (s) => s !== null && typeof s === 'object' && typeof (s as Writable).write === 'function',
      (i) => `must be a writable stream (got ${got(i)}); e.g. ${example}`,
    ),
  );

function positiveInteger(example: number) {
  const message = (i: v.BaseIssue<unknown>) =>
    `must be a positive integer (got ${got(i)}); e.g. ${example}, or leave it unset for that default`;
  return v.optional(
    v.pipe(
      v.number(message),
      v.check((n) => Number.isInteger(n) && n > 0, message),
    ),
  );
}

function nonNegativeInteger(example: number) {
  const message = (i: v.BaseIssue<unknown>) =>
    `must be an integer of 0 or more (got ${got(i)}); e.g. ${example}, or leave it unset for that default`;
  return v.optional(
    v.pipe(
      v.number(message),
      v.check((n) => Number.isInteger(n) && n >= 0, message),
    ),
  );
}

const shippingSchema = v.looseObject(
  {
    url: v.custom<string>(
      (url) => typeof url === 'string' && urlProblem(url) === undefined,
      (i) => urlProblem(i.input)!,
    ),
    tenant: string('"fake"'),
    username: string('"123456"'),
    password: credentialSchema("() => secrets.get('loki_password')"),
    bearerToken: credentialSchema("() => secrets.get('loki_token')"),
    headers: stringRecord('"X-Custom": "1"'),
    labels: v.optional(
      v.record(
        v.string(),
        v.unknown(),
        (i) => `must be an object of label names and values (got ${got(i)}); e.g. { region: "eu-west-1" }`,
      ),
    ),
    levelLabel: boolean('true'),
    encoding: v.optional(
      v.picklist(
        ['json', 'protobuf'],
        (i) => `must be "json" or "protobuf" (got ${got(i)}); e.g. "protobuf"`,
      ),
    ),
    gzip: boolean('false'),
    structuredMetadata: v.optional(
      v.picklist(
        ['auto', 'always', 'never'],
        (i) => `must be "auto", "always" or "never" (got ${got(i)}); e.g. "never"`,
      ),
    ),
    batchMaxEntries: positiveInteger(LOKI_SHIPPING_DEFAULTS.batchMaxEntries),
    batchMaxBytes: positiveInteger(LOKI_SHIPPING_DEFAULTS.batchMaxBytes),
    batchIntervalMs: positiveInteger(LOKI_SHIPPING_DEFAULTS.batchIntervalMs),
    timeoutMs: positiveInteger(LOKI_SHIPPING_DEFAULTS.timeoutMs),
    minBackoffMs: positiveInteger(LOKI_SHIPPING_DEFAULTS.minBackoffMs),
    maxBackoffMs: positiveInteger(LOKI_SHIPPING_DEFAULTS.maxBackoffMs),
    maxBufferEntries: positiveInteger(LOKI_SHIPPING_DEFAULTS.maxBufferEntries),
    maxBufferBytes: positiveInteger(LOKI_SHIPPING_DEFAULTS.maxBufferBytes),
    maxLineBytes: positiveInteger(LOKI_SHIPPING_DEFAULTS.maxLineBytes),
    shutdownTimeoutMs: positiveInteger(LOKI_SHIPPING_DEFAULTS.shutdownTimeoutMs),
    diagnostics: writable('process.stderr'),
  },
  (i) => `must be an object (got ${got(i)}); e.g. { url: "http://loki:3100" }`,
);

const optionsSchema = v.looseObject(
  {
    service: v.custom<string>(
      (service) => typeof service === 'string' && service.length > 0,
      (i) =>
        `must be a non-empty string (got ${got(i)}), the service name on every line and label; e.g. "orders"`,
    ),
    env: v.optional(
      v.pipe(
        v.string((i) => `must be a string (got ${got(i)}); e.g. "production"`),
        v.nonEmpty('must not be empty; e.g. "production", or leave it unset for NODE_ENV'),
      ),
    ),
    level: v.optional(
      v.custom<LokiLogLevel>(
        isLokiLogLevel,
        (i) => `must be one of ${LOKI_LOG_LEVEL_NAMES.join(', ')} (got ${got(i)}); e.g. "info"`,
      ),
    ),
    format: v.optional(
      v.picklist(['json', 'pretty'], (i) => `must be "json" or "pretty" (got ${got(i)}); e.g. "pretty"`),
    ),
    colors: boolean('false'),
    stream: writable('process.stdout'),
    stdoutBufferBytes: nonNegativeInteger(DEFAULT_STDOUT_BUFFER_BYTES),
    redactKeys: stringList('"password"'),
    redactValues: stringList('"a-literal-to-mask"'),
    minRedactLength: positiveInteger(4),
    redactCensor: string('"[REDACTED]"'),
    warnIfNoRedactionSource: boolean('false'),
    requestContext: v.optional(
      v.looseObject(
        {
          enabled: boolean('false'),
          header: v.optional(
            v.pipe(
              v.string((i) => `must be a header name (got ${got(i)}); e.g. "x-correlation-id"`),
              v.nonEmpty('must not be empty; e.g. "x-correlation-id"'),
            ),
          ),
          genReqId: func('() => `orders-${randomUUID()}`'),
          userId: func('(req) => req.user?.id'),
          logRequests: boolean('false'),
          excludeFromRequestLog: stringList('"/health*"'),
        },
        (i) => `must be an object (got ${got(i)}); e.g. { logRequests: false }`,
      ),
    ),
    // Checked with the shipping schema when `loki.url` is set: without it, shipping is off.
    loki: v.optional(
      v.looseObject({}, (i) => `must be an object (got ${got(i)}); e.g. { url: "http://loki:3100" }`),
    ),
  },
  (i) => `must be an object (got ${got(i)}); e.g. { service: "orders" }`,
);

/** What to write for an option that is missing although required. */
const MISSING: Record<string, string> = {
  service: 'is missing; it is the service name on every line and label, e.g. "orders"',
  url: 'is missing; expected the base URL of Loki or its gateway, e.g. "http://loki:3100"',
};

/** A valibot issue as one problem line: the option's path, then the message (never `path:`). */
function problemLine(issue: v.BaseIssue<unknown>, prefix: string): string {
  const keys = (issue.path ?? []).map((item) => item.key as string | number);
  let path = prefix;
  for (const key of keys) path = typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
  const last = keys.at(-1);
  const isObjectIssue = issue.type === 'loose_object' || issue.type === 'object';
  if (isObjectIssue && issue.input === undefined && typeof last === 'string' && last in MISSING) {
    return `${path} ${MISSING[last]}`;
  }
  return `${path || 'options'} ${issue.message}`;
}

function schemaProblems(schema: v.GenericSchema, input: unknown, prefix: string): string[] {
  const result = v.safeParse(schema, input, { abortEarly: false, abortPipeEarly: true });
  return result.success ? [] : result.issues.map((issue) => problemLine(issue, prefix));
}

/** `url` without trailing slashes and without the push path (both are accepted). */
export function baseUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/loki\/api\/v1\/push$/, '');
}

/** Why `url` is not the base URL of Loki (the rest of a problem line), or `undefined`. */
function urlProblem(url: unknown): string | undefined {
  const expected = 'expected the base URL of Loki or its gateway, e.g. "http://loki:3100"';
  if (typeof url !== 'string' || url.trim() === '') return `is missing: ${expected}`;
  let parsed: URL | undefined;
  try {
    parsed = new URL(`${baseUrl(url)}${PUSH_PATH}`);
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.host)
    return undefined;
  // `loki:3100` parses as the scheme `loki:`: the usual mistake is a missing `http://`.
  const hint = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? '' : ' (the scheme is missing)';
  return `${JSON.stringify(shownUrl(url))} is not an http(s) URL${hint}: ${expected}`;
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

/** The label set of the stream(s): `service_name`, `env` and the static extras. */
function streamLabels(
  options: LokiShippingOptions,
  identity: LokiTransportIdentity,
): Readonly<Record<string, string>> {
  return { service_name: identity.service, env: identity.env, ...options.labels };
}

/** Whether a credential option holds something (`''` counts as unset: an unset env var read as ''). */
function isSet(credential: unknown): boolean {
  return typeof credential === 'function' || (typeof credential === 'string' && credential !== '');
}

/** Problems across several shipping options (labels with the identity, credentials, backoff). */
function shippingCrossProblems(options: LokiShippingOptions, identity: LokiTransportIdentity): string[] {
  const problems: string[] = [];
  const labels = streamLabels(options, identity);
  if (options.labels === undefined || (typeof options.labels === 'object' && options.labels !== null)) {
    problems.push(...labelProblems(labels));
    if (options.levelLabel === true && Object.keys(labels).length >= MAX_LABELS) {
      problems.push(
        `loki.levelLabel has no room for the level label (at most ${MAX_LABELS} labels in all); ` +
          'remove a static label, or leave levelLabel unset',
      );
    }
  }
  const { username, password, bearerToken } = options;
  if (isSet(bearerToken) && (isSet(password) || (typeof username === 'string' && username !== ''))) {
    problems.push(
      'loki.bearerToken is set together with loki.username/loki.password: Bearer and Basic auth ' +
        'exclude each other; keep one, e.g. remove loki.username and loki.password',
    );
  } else if (!isSet(bearerToken)) {
    // A function password is resolved per push (see the HTTP client); only static halves are known now.
    if (typeof password === 'string' && password !== '' && !username) {
      problems.push(
        "loki.password is set but loki.username is empty: Basic auth needs both; set the user, e.g. '123456' " +
          '(the Grafana Cloud user id), or remove loki.password',
      );
    }
    if (typeof username === 'string' && username !== '' && (password === undefined || password === '')) {
      problems.push(
        'loki.username is set but loki.password is missing: Basic auth needs both; set the password, ' +
          "e.g. () => secrets.get('loki_password'), or remove loki.username",
      );
    }
  }
  const min = options.minBackoffMs ?? LOKI_SHIPPING_DEFAULTS.minBackoffMs;
  const max = options.maxBackoffMs ?? LOKI_SHIPPING_DEFAULTS.maxBackoffMs;
  if (Number.isInteger(min) && Number.isInteger(max) && min > 0 && max > 0 && min > max) {
    problems.push(
      `loki.minBackoffMs (${min}) is above loki.maxBackoffMs (${max}): the first retry delay cannot ` +
        `exceed the longest one; e.g. minBackoffMs ${Math.min(LOKI_SHIPPING_DEFAULTS.minBackoffMs, max)} ` +
        `with maxBackoffMs ${max}`,
    );
  }
  return problems;
}

/** Every problem of the `loki` options, one line each (empty when they are valid). */
export function lokiShippingProblems(options: unknown, identity: LokiTransportIdentity): string[] {
  const problems = schemaProblems(shippingSchema, options, 'loki');
  if (options === null || typeof options !== 'object') return problems;
  return [...problems, ...shippingCrossProblems(options as LokiShippingOptions, identity)];
}

/** Every problem of the module options, one line each (empty when they are valid). */
export function lokiLoggerOptionsProblems(options: unknown): string[] {
  const problems = schemaProblems(optionsSchema, options, '');
  if (options === null || typeof options !== 'object') return problems;
  const given = options as Partial<LokiLoggerModuleOptions>;
  if (given.loki?.url) {
    // A missing service is reported above, not again as an empty `service_name` label.
    const identity = { service: given.service || 'unset', env: envOf(given) };
    problems.push(...lokiShippingProblems(given.loki, identity));
  }
  return problems;
}

function envOf(options: Partial<LokiLoggerModuleOptions>): string {
  return options.env ?? process.env.NODE_ENV ?? 'development';
}

// Results of the resolvers: a resolved object passed again (the module's provider, then `new
// LokiLogger(resolved)`) is taken as it is.
const resolvedObjects = new WeakSet<object>();

function freeze<T extends object>(value: T): T {
  resolvedObjects.add(value);
  return Object.freeze(value);
}

/**
 * Applies the defaults to the `loki` options and checks every one, once: throws one
 * `LokiLoggerConfigError` listing every problem (an invalid value is never replaced by a default).
 */
export function resolveLokiShippingOptions(
  options: LokiShippingOptions | ResolvedLokiShippingOptions,
  identity: LokiTransportIdentity,
): ResolvedLokiShippingOptions {
  if (resolvedObjects.has(options)) return options as ResolvedLokiShippingOptions;
  const problems = lokiShippingProblems(options, identity);
  if (problems.length > 0) throw new LokiLoggerConfigError(problems);
  return shipping(options as LokiShippingOptions, identity);
}

function shipping(
  options: LokiShippingOptions,
  identity: LokiTransportIdentity,
): ResolvedLokiShippingOptions {
  const d = LOKI_SHIPPING_DEFAULTS;
  return freeze({
    url: baseUrl(options.url),
    labels: Object.freeze(streamLabels(options, identity)),
    levelLabel: options.levelLabel ?? false,
    tenant: options.tenant || undefined,
    username: options.username,
    password: options.password,
    bearerToken: options.bearerToken,
    headers: Object.freeze({ ...options.headers }),
    encoding: options.encoding ?? 'json',
    gzip: options.gzip ?? true,
    structuredMetadata: options.structuredMetadata ?? 'auto',
    batchMaxEntries: options.batchMaxEntries ?? d.batchMaxEntries,
    batchMaxBytes: options.batchMaxBytes ?? d.batchMaxBytes,
    batchIntervalMs: options.batchIntervalMs ?? d.batchIntervalMs,
    timeoutMs: options.timeoutMs ?? d.timeoutMs,
    minBackoffMs: options.minBackoffMs ?? d.minBackoffMs,
    maxBackoffMs: options.maxBackoffMs ?? d.maxBackoffMs,
    maxBufferEntries: options.maxBufferEntries ?? d.maxBufferEntries,
    maxBufferBytes: options.maxBufferBytes ?? d.maxBufferBytes,
    maxLineBytes: options.maxLineBytes ?? d.maxLineBytes,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? d.shutdownTimeoutMs,
    diagnostics: options.diagnostics ?? process.stderr,
  });
}

/**
 * Applies the defaults to the module options and checks every option, once: throws one
 * `LokiLoggerConfigError` listing every problem (an invalid value is never replaced by a default;
 * `undefined` means "use the default"). The result is frozen; `env`, `format` and `colors` defaults
 * are read from the environment here.
 */
export function resolveLokiLoggerOptions(
  options: LokiLoggerModuleOptions | ResolvedLokiLoggerOptions,
): ResolvedLokiLoggerOptions {
  if (resolvedObjects.has(options)) return options as ResolvedLokiLoggerOptions;
  const problems = lokiLoggerOptionsProblems(options);
  if (problems.length > 0) throw new LokiLoggerConfigError(problems);
  const given = options as LokiLoggerModuleOptions;
  const env = envOf(given);
  const stream = given.stream ?? process.stdout;
  const rc = given.requestContext ?? {};
  // Shipping is on when `loki.url` is set (`loki: undefined` and `loki: {}` without url were "off").
  const loki = given.loki?.url ? shipping(given.loki, { service: given.service, env }) : undefined;
  return freeze({
    service: given.service,
    env,
    level: given.level ?? 'info',
    format: given.format ?? (process.env.LOG_FORMAT === 'pretty' ? 'pretty' : 'json'),
    colors: given.colors ?? (!process.env.NO_COLOR && (stream as { isTTY?: boolean }).isTTY === true),
    stream,
    stdoutBufferBytes: given.stdoutBufferBytes ?? DEFAULT_STDOUT_BUFFER_BYTES,
    redactKeys: Object.freeze([...(given.redactKeys ?? DEFAULT_REDACT_KEYS)]),
    redactValues: Object.freeze([...(given.redactValues ?? [])]),
    minRedactLength: given.minRedactLength ?? 4,
    redactCensor: given.redactCensor ?? '[REDACTED]',
    warnIfNoRedactionSource: given.warnIfNoRedactionSource ?? true,
    requestContext: Object.freeze({
      enabled: rc.enabled ?? true,
      header: (rc.header ?? 'x-request-id').toLowerCase(),
      genReqId: rc.genReqId,
      userId: rc.userId,
      logRequests: rc.logRequests ?? true,
      excludeFromRequestLog: Object.freeze([...(rc.excludeFromRequestLog ?? ['/health*'])]),
    }),
    loki,
  });
}
