import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions } from 'ioredis';
import * as v from 'valibot';
import type { RedisAddress } from './redis-address.js';
import { RedisSentinelConfigError } from './redis-sentinel.errors.js';
import {
  REDIS_CLIENT_ROLES,
  type RedisClientDefinition,
  type RedisClientRole,
  type RedisNatMap,
  type RedisSentinelModuleOptions,
} from './redis-sentinel-options.interface.js';
import { parseRedisUrl } from './redis-url.parser.js';
import { parseSentinelAddresses } from './sentinel-address.parser.js';

/** A declared client with its defaults applied. Internal. */
export interface ResolvedClientDefinition {
  readonly name: string;
  readonly role: RedisClientRole;
  readonly ioredis: Partial<RedisOptions>;
}

/**
 * Module options with every default applied, frozen: what the providers inject. Internal. Holds the
 * passwords: keep it in `#private` fields, never in a public one.
 */
export interface ResolvedRedisSentinelOptions {
  readonly mode: 'sentinel' | 'standalone';
  readonly sentinels: readonly RedisAddress[];
  readonly masterName: string;
  readonly standalone: RedisAddress | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly sentinelUsername: string | undefined;
  readonly sentinelPassword: string | undefined;
  readonly db: number;
  readonly tls: ConnectionOptions | undefined;
  readonly sentinelTls: ConnectionOptions | undefined;
  readonly natMap: RedisNatMap | undefined;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly socketTimeoutMs: number;
  readonly keepAliveMs: number;
  readonly maxRetriesPerRequest: number;
  readonly sentinelCommandTimeoutMs: number;
  readonly reconnectMaxDelayMs: number;
  readonly sentinelRetryMaxDelayMs: number;
  readonly startupTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly replicaRecheckIntervalMs: number;
  readonly topologyCheckIntervalMs: number;
  readonly errorLogIntervalMs: number;
  readonly autoResendUnfulfilledCommands: boolean;
  readonly failoverWatcher: boolean;
  readonly ioredis: Partial<RedisOptions>;
  readonly clients: readonly ResolvedClientDefinition[];
}

/** Defaults of the timings, each explained on its option. */
export const REDIS_SENTINEL_TIMING_DEFAULTS = Object.freeze({
  connectTimeoutMs: 2000,
  commandTimeoutMs: 2000,
  socketTimeoutMs: 5000,
  keepAliveMs: 30_000,
  sentinelCommandTimeoutMs: 500,
  reconnectMaxDelayMs: 2000,
  sentinelRetryMaxDelayMs: 2000,
  startupTimeoutMs: 10_000,
  shutdownTimeoutMs: 2000,
  replicaRecheckIntervalMs: 5000,
  topologyCheckIntervalMs: 5000,
  errorLogIntervalMs: 10_000,
});

/** ioredis keys that the module owns; setting them through the escape hatch would bypass it. */
export const MANAGED_IOREDIS_KEYS = ['sentinels', 'name', 'Connector', 'role'] as const;

const DEFAULT_CLIENTS: Readonly<Record<string, RedisClientRole>> = Object.freeze({ default: 'master' });

// ------------------------------------------------------------------------------------------ schema
// Each message is the rest of a problem line after the option's path: what is wrong, the value given
// (never a credential's) and an example of a valid one.

/** A value as a problem line shows it: strings quoted and cut, objects by kind. Never a credential. */
export function shown(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' ? 'a function' : String(value);
  }
  return Array.isArray(value) ? 'an array' : 'an object';
}

export const got = (issue: v.BaseIssue<unknown>): string => shown(issue.input);

const boolean = (example: string) =>
  v.optional(v.boolean((i) => `must be true or false (got ${got(i)}); e.g. ${example}`));

export function integer(min: 0 | 1, example: string, what = '') {
  const rule = min === 1 ? `a positive integer${what}` : `an integer >= 0${what}`;
  const message = (i: v.BaseIssue<unknown>) => `must be ${rule} (got ${got(i)}); e.g. ${example}`;
  return v.optional(
    v.pipe(
      v.number(message),
      v.check((n) => Number.isInteger(n) && n >= min, message),
    ),
  );
}

const milliseconds = (key: keyof typeof REDIS_SENTINEL_TIMING_DEFAULTS) =>
  key === 'startupTimeoutMs'
    ? integer(0, `${REDIS_SENTINEL_TIMING_DEFAULTS[key]}, or 0 to not wait`, ' (milliseconds)')
    : integer(1, String(REDIS_SENTINEL_TIMING_DEFAULTS[key]), ' (milliseconds)');

/** A credential: its type is checked, its value never shown. */
export const credential = (example: string) =>
  v.optional(
    v.string(
      (i) =>
        `must be a string (it is set, of type ${i.input === null ? 'null' : typeof i.input}); e.g. ${example}`,
    ),
  );

const nonEmptyString = (example: string) => {
  const message = (i: v.BaseIssue<unknown>) => `must be a non-empty string (got ${got(i)}); e.g. ${example}`;
  return v.optional(
    v.pipe(
      v.string(message),
      v.check((s) => s.trim() !== '', message),
    ),
  );
};

export const tls = (example: string) =>
  v.optional(
    v.union(
      [v.boolean(), v.looseObject({})],
      (i) => `must be true, false or Node tls options (got ${got(i)}); e.g. ${example}`,
    ),
  );

const optionsSchema = v.looseObject(
  {
    masterName: nonEmptyString('"mymaster", the name in "sentinel monitor <name> ..."'),
    url: v.optional(v.string((i) => `must be a string (got ${got(i)}); e.g. "redis://redis:6379/0"`)),
    host: nonEmptyString('"redis"'),
    port: v.optional(
      v.pipe(
        v.number((i) => `must be an integer between 1 and 65535 (got ${got(i)}); e.g. 6379`),
        v.check(
          (n) => Number.isInteger(n) && n >= 1 && n <= 65_535,
          (i) => `must be an integer between 1 and 65535 (got ${got(i)}); e.g. 6379`,
        ),
      ),
    ),
    username: credential('"app"'),
    password: credential('the value of a secret, read with SecretsService'),
    sentinelUsername: credential('"sentinel-user"'),
    sentinelPassword: credential('the value of a secret, read with SecretsService'),
    db: integer(0, '0'),
    tls: tls('true'),
    sentinelTls: tls("true, or { ca } with the Sentinels' CA"),
    natMap: v.optional(
      v.union(
        [v.function(), v.looseObject({})],
        (i) =>
          `must be an object { "host:port": { host, port } } or a function (got ${got(i)}); ` +
          'e.g. { "10.0.0.5:6379": { host: "redis.example", port: 6379 } }',
      ),
    ),
    connectTimeoutMs: milliseconds('connectTimeoutMs'),
    commandTimeoutMs: milliseconds('commandTimeoutMs'),
    socketTimeoutMs: milliseconds('socketTimeoutMs'),
    keepAliveMs: milliseconds('keepAliveMs'),
    maxRetriesPerRequest: integer(0, '3'),
    sentinelCommandTimeoutMs: milliseconds('sentinelCommandTimeoutMs'),
    reconnectMaxDelayMs: milliseconds('reconnectMaxDelayMs'),
    sentinelRetryMaxDelayMs: milliseconds('sentinelRetryMaxDelayMs'),
    startupTimeoutMs: milliseconds('startupTimeoutMs'),
    shutdownTimeoutMs: milliseconds('shutdownTimeoutMs'),
    replicaRecheckIntervalMs: milliseconds('replicaRecheckIntervalMs'),
    topologyCheckIntervalMs: milliseconds('topologyCheckIntervalMs'),
    failoverWatcher: boolean('true'),
    errorLogIntervalMs: milliseconds('errorLogIntervalMs'),
    autoResendUnfulfilledCommands: boolean('false'),
  },
  (i) =>
    `must be an object (got ${got(i)}); e.g. { sentinels: "sentinel-1:26379,sentinel-2:26379", masterName: "mymaster" }`,
);

function schemaProblems(input: unknown): string[] {
  const result = v.safeParse(optionsSchema, input, { abortEarly: false, abortPipeEarly: true });
  if (result.success) return [];
  return result.issues.map((issue) => {
    const path = (issue.path ?? []).map((item) => String(item.key)).join('.');
    return `${path || 'options'} ${issue.message}`;
  });
}

// -------------------------------------------------------------------------------- cross-field checks

const SENTINEL_EXAMPLE =
  'e.g. { sentinels: "sentinel-1:26379,sentinel-2:26379,sentinel-3:26379", masterName: "mymaster" }';

/** Problems of `ioredis` (module-wide or one client's): keys the module owns, a ready check turned off. */
function ioredisProblems(path: string, overrides: unknown, mode: 'sentinel' | 'standalone'): string[] {
  if (overrides === undefined) return [];
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    return [
      `${path} must be an object of ioredis options (got ${shown(overrides)}); e.g. { enableAutoPipelining: true }`,
    ];
  }
  const problems: string[] = [];
  for (const key of MANAGED_IOREDIS_KEYS) {
    if (key in overrides) {
      problems.push(
        `${path}.${key} is managed by the module; remove it and use the module options instead ` +
          '(sentinels, masterName, clients with their roles)',
      );
    }
  }
  if (mode === 'sentinel' && (overrides as Partial<RedisOptions>).enableReadyCheck === false) {
    problems.push(
      `${path}.enableReadyCheck false is not allowed in Sentinel mode (the master role check runs in the ready check); remove it`,
    );
  }
  return problems;
}

/**
 * Checks the `clients` extra of either module (`RedisSentinelModule`, `RedisClusterModule`): a
 * non-empty object of role strings or `{ role, ioredis }`, every role one of `roles`. Collects
 * every problem; `checkIoredis` checks a client's own ioredis options.
 */
export function resolveClientDefinitions<Role extends string, Ioredis>(
  declared: unknown,
  roles: readonly Role[],
  checkIoredis: (path: string, overrides: unknown) => string[],
  /** Appended to "is an unknown role", e.g. " in Cluster mode". */
  roleContext = '',
): {
  clients: Array<{ readonly name: string; readonly role: Role; readonly ioredis: Ioredis }>;
  problems: string[];
} {
  const clients: Array<{ readonly name: string; readonly role: Role; readonly ioredis: Ioredis }> = [];
  const problems: string[] = [];
  if (
    declared === null ||
    typeof declared !== 'object' ||
    Array.isArray(declared) ||
    Object.keys(declared).length === 0
  ) {
    problems.push(
      `clients must declare at least one client (got ${shown(declared)}); e.g. { default: "master" }`,
    );
    return { clients, problems };
  }
  const roleList = roles.join(', ');
  for (const [name, def] of Object.entries(declared as Record<string, unknown>)) {
    if (name.trim() === '')
      problems.push('clients has a client with an empty name; e.g. { default: "master" }');
    const isObject = typeof def === 'object' && def !== null && !Array.isArray(def);
    if (typeof def !== 'string' && !isObject) {
      problems.push(`clients.${name} must be a role or { role, ioredis } (got ${shown(def)}); e.g. "master"`);
      continue;
    }
    const definition = isObject ? (def as { role?: unknown; ioredis?: Ioredis }) : undefined;
    const role: unknown = typeof def === 'string' ? def : (definition?.role ?? 'master');
    if (!roles.includes(role as Role)) {
      const path = typeof def === 'string' ? `clients.${name}` : `clients.${name}.role`;
      problems.push(
        `${path} is an unknown role${roleContext} (got ${shown(role)}); use ${roleList}, e.g. "replica"`,
      );
    }
    problems.push(...checkIoredis(`clients.${name}.ioredis`, definition?.ioredis));
    clients.push(
      Object.freeze({ name, role: role as Role, ioredis: definition?.ioredis ?? ({} as Ioredis) }),
    );
  }
  return { clients, problems };
}

/** `true` is `{}` (TLS with Node's defaults), `false` and `undefined` are plain TCP. */
export function tlsOf(value: boolean | ConnectionOptions | undefined): ConnectionOptions | undefined {
  return value === undefined || value === false ? undefined : value === true ? {} : value;
}

/**
 * Applies the defaults to the module options and the declared `clients`, and checks every option,
 * once: throws one `RedisSentinelConfigError` listing every problem (an invalid value is never
 * replaced by a default; `undefined` means "use the default"). The result is frozen.
 */
export function resolveRedisSentinelOptions(
  input: RedisSentinelModuleOptions | undefined,
  clientsInput?: Record<string, RedisClientRole | RedisClientDefinition>,
): ResolvedRedisSentinelOptions {
  const options: RedisSentinelModuleOptions = input ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new RedisSentinelConfigError(schemaProblems(options));
  }
  const problems: string[] = [];

  const hasSentinels = options.sentinels !== undefined;
  const hasStandalone = options.url !== undefined || options.host !== undefined;
  let mode: 'sentinel' | 'standalone' = 'sentinel';
  if (hasSentinels && hasStandalone) {
    problems.push(
      'sentinels and url/host are both set: give either sentinels + masterName (Sentinel mode) or ' +
        'url / host (standalone mode), not both',
    );
  } else if (!hasSentinels && !hasStandalone) {
    problems.push(
      `no server given: set sentinels + masterName (Sentinel mode) or url / host (standalone mode); ${SENTINEL_EXAMPLE}`,
    );
  } else if (hasStandalone) {
    mode = 'standalone';
  }

  let sentinels: readonly RedisAddress[] = [];
  if (mode === 'sentinel' && hasSentinels) {
    if (typeof options.sentinels !== 'string' && !Array.isArray(options.sentinels)) {
      problems.push(
        `sentinels must be an array of { host, port } or a "host:port,host:port" string (got ${shown(options.sentinels)}); ` +
          'e.g. "sentinel-1:26379,sentinel-2:26379,sentinel-3:26379"',
      );
    } else {
      const parsed = parseSentinelAddresses(options.sentinels);
      sentinels = parsed.addresses;
      problems.push(...parsed.problems);
    }
    if (options.masterName === undefined) {
      problems.push(
        'masterName is required in Sentinel mode (the name in "sentinel monitor <name> ..."); e.g. "mymaster"',
      );
    }
  }

  let standalone: RedisAddress | undefined;
  let fromUrl: Exclude<ReturnType<typeof parseRedisUrl>, { problem: string }> | undefined;
  if (mode === 'standalone' && hasStandalone) {
    if (typeof options.url === 'string') {
      const parsed = parseRedisUrl(options.url);
      if ('problem' in parsed) problems.push(`url ${parsed.problem}`);
      else {
        fromUrl = parsed;
        standalone = parsed.address;
      }
    } else if (options.url === undefined && typeof options.host === 'string' && options.host.trim() !== '') {
      standalone = { host: options.host, port: options.port ?? 6379 };
    }
  }

  problems.push(...schemaProblems(options));
  problems.push(...ioredisProblems('ioredis', options.ioredis, mode));
  const declared = resolveClientDefinitions<RedisClientRole, Partial<RedisOptions>>(
    clientsInput ?? DEFAULT_CLIENTS,
    REDIS_CLIENT_ROLES,
    (path, overrides) => ioredisProblems(path, overrides, mode),
  );
  problems.push(...declared.problems);

  if (problems.length > 0) throw new RedisSentinelConfigError(problems);

  const timings = {} as Record<keyof typeof REDIS_SENTINEL_TIMING_DEFAULTS, number>;
  for (const key of Object.keys(REDIS_SENTINEL_TIMING_DEFAULTS) as Array<
    keyof typeof REDIS_SENTINEL_TIMING_DEFAULTS
  >) {
    timings[key] = options[key] ?? REDIS_SENTINEL_TIMING_DEFAULTS[key];
  }
  const dataTls = tlsOf(options.tls) ?? (fromUrl?.tls ? {} : undefined);

  return Object.freeze({
    mode,
    sentinels: Object.freeze(sentinels.map((address) => Object.freeze({ ...address }))),
    masterName: mode === 'sentinel' ? options.masterName! : '',
    standalone: standalone && Object.freeze(standalone),
    username: options.username ?? fromUrl?.username,
    password: options.password ?? fromUrl?.password,
    sentinelUsername: options.sentinelUsername,
    sentinelPassword: options.sentinelPassword,
    db: options.db ?? fromUrl?.db ?? 0,
    tls: dataTls,
    sentinelTls: tlsOf(options.sentinelTls),
    natMap: options.natMap,
    ...timings,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 3,
    autoResendUnfulfilledCommands: options.autoResendUnfulfilledCommands ?? false,
    failoverWatcher: options.failoverWatcher ?? true,
    ioredis: options.ioredis ?? {},
    clients: Object.freeze(declared.clients),
  });
}
