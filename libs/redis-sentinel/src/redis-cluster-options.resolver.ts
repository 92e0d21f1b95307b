import type { ConnectionOptions } from 'node:tls';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import * as v from 'valibot';
import type { RedisAddress } from './redis-address.js';
import {
  REDIS_CLUSTER_CLIENT_ROLES,
  type RedisClusterClientDefinition,
  type RedisClusterClientRole,
  type RedisClusterModuleOptions,
} from './redis-cluster-options.interface.js';
import { RedisSentinelConfigError } from './redis-sentinel.errors.js';
import type { RedisNatMap } from './redis-sentinel-options.interface.js';
import {
  credential,
  got,
  integer,
  resolveClientDefinitions,
  shown,
  tls,
  tlsOf,
} from './redis-sentinel-options.resolver.js';
import { parseSentinelAddresses } from './sentinel-address.parser.js';

/** A declared Cluster client with its defaults applied. Internal. */
export interface ResolvedClusterClientDefinition {
  readonly name: string;
  readonly role: RedisClusterClientRole;
  readonly ioredis: Partial<ClusterOptions>;
  /**
   * Node connection settings set over the module's own: a copy's (`duplicate()`) blocking-safe
   * settings and its caller's changes. None for a declared client.
   */
  readonly redisOptionsOverride?: Partial<RedisOptions>;
}

/**
 * Cluster module options with every default applied, frozen: what the providers inject. Internal.
 * Holds the password: keep it in `#private` fields, never in a public one.
 */
export interface ResolvedRedisClusterOptions {
  readonly mode: 'cluster';
  readonly nodes: readonly RedisAddress[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: ConnectionOptions | undefined;
  readonly natMap: RedisNatMap | undefined;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly socketTimeoutMs: number;
  readonly keepAliveMs: number;
  readonly maxRetriesPerRequest: number;
  readonly reconnectMaxDelayMs: number;
  readonly startupTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly errorLogIntervalMs: number;
  readonly slotsRefreshIntervalMs: number;
  readonly slotsRefreshTimeoutMs: number;
  readonly failoverRefreshIntervalMs: number;
  readonly ioredis: Partial<ClusterOptions>;
  readonly clients: readonly ResolvedClusterClientDefinition[];
}

/** Defaults of the timings, each explained on its option. */
export const REDIS_CLUSTER_TIMING_DEFAULTS = Object.freeze({
  connectTimeoutMs: 2000,
  commandTimeoutMs: 2000,
  socketTimeoutMs: 5000,
  keepAliveMs: 30_000,
  reconnectMaxDelayMs: 2000,
  startupTimeoutMs: 10_000,
  shutdownTimeoutMs: 2000,
  errorLogIntervalMs: 10_000,
  slotsRefreshIntervalMs: 5000,
  slotsRefreshTimeoutMs: 1000,
  failoverRefreshIntervalMs: 50,
});

/** ioredis `ClusterOptions` keys that the module owns, with what to use instead. */
export const MANAGED_CLUSTER_IOREDIS_KEYS: Readonly<Record<string, string>> = Object.freeze({
  scaleReads: 'the client role ("master" or "replica")',
  natMap: 'the module option natMap',
  slotsRefreshInterval: 'the module option slotsRefreshIntervalMs',
  slotsRefreshTimeout: 'the module option slotsRefreshTimeoutMs',
  retryDelayOnFailover:
    'nothing: a command lost with its connection may have been applied and is never resent',
  lazyConnect: 'nothing: clients connect in onModuleInit',
});

/** `redisOptions` keys (node connections) that the module owns. */
export const MANAGED_CLUSTER_REDIS_OPTIONS_KEYS: Readonly<Record<string, string>> = Object.freeze({
  autoResendUnfulfilledCommands:
    'nothing: a command lost with its connection may have been applied and is never resent',
  password: 'the module option password',
  username: 'the module option username',
});

const DEFAULT_CLIENTS: Readonly<Record<string, RedisClusterClientRole>> = Object.freeze({
  default: 'master',
});

const CLUSTER_EXAMPLE = 'e.g. { nodes: "redis-1:7000,redis-2:7000,redis-3:7000" }';

const milliseconds = (key: keyof typeof REDIS_CLUSTER_TIMING_DEFAULTS) =>
  key === 'startupTimeoutMs'
    ? integer(0, `${REDIS_CLUSTER_TIMING_DEFAULTS[key]}, or 0 to not wait`, ' (milliseconds)')
    : integer(1, String(REDIS_CLUSTER_TIMING_DEFAULTS[key]), ' (milliseconds)');

const optionsSchema = v.looseObject(
  {
    username: credential('"app"'),
    password: credential('the value of a secret, read with SecretsService'),
    tls: tls('true'),
    natMap: v.optional(
      v.union(
        [v.function(), v.looseObject({})],
        (i) =>
          `must be an object { "host:port": { host, port } } or a function (got ${got(i)}); ` +
          'e.g. { "10.0.0.5:7000": { host: "redis-1.example", port: 7000 } }',
      ),
    ),
    connectTimeoutMs: milliseconds('connectTimeoutMs'),
    commandTimeoutMs: milliseconds('commandTimeoutMs'),
    socketTimeoutMs: milliseconds('socketTimeoutMs'),
    keepAliveMs: milliseconds('keepAliveMs'),
    maxRetriesPerRequest: integer(0, '3'),
    reconnectMaxDelayMs: milliseconds('reconnectMaxDelayMs'),
    startupTimeoutMs: milliseconds('startupTimeoutMs'),
    shutdownTimeoutMs: milliseconds('shutdownTimeoutMs'),
    errorLogIntervalMs: milliseconds('errorLogIntervalMs'),
    slotsRefreshIntervalMs: milliseconds('slotsRefreshIntervalMs'),
    slotsRefreshTimeoutMs: milliseconds('slotsRefreshTimeoutMs'),
    failoverRefreshIntervalMs: milliseconds('failoverRefreshIntervalMs'),
  },
  (i) => `must be an object (got ${got(i)}); ${CLUSTER_EXAMPLE}`,
);

function schemaProblems(input: unknown): string[] {
  const result = v.safeParse(optionsSchema, input, { abortEarly: false, abortPipeEarly: true });
  if (result.success) return [];
  return result.issues.map((issue) => {
    const path = (issue.path ?? []).map((item) => String(item.key)).join('.');
    return `${path || 'options'} ${issue.message}`;
  });
}

/** Problems of an `ioredis` escape hatch (module-wide or one client's): keys the module owns. */
function ioredisProblems(path: string, overrides: unknown): string[] {
  if (overrides === undefined) return [];
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    return [
      `${path} must be an object of ioredis ClusterOptions (got ${shown(overrides)}); e.g. { enableAutoPipelining: true }`,
    ];
  }
  const problems: string[] = [];
  for (const [key, instead] of Object.entries(MANAGED_CLUSTER_IOREDIS_KEYS)) {
    if (key in overrides)
      problems.push(`${path}.${key} is managed by the module; remove it and use ${instead}`);
  }
  const redisOptions = (overrides as Partial<ClusterOptions>).redisOptions;
  if (redisOptions !== undefined && (typeof redisOptions !== 'object' || redisOptions === null)) {
    problems.push(`${path}.redisOptions must be an object of ioredis options (got ${shown(redisOptions)})`);
  } else if (redisOptions) {
    for (const [key, instead] of Object.entries(MANAGED_CLUSTER_REDIS_OPTIONS_KEYS)) {
      if (key in redisOptions) {
        problems.push(`${path}.redisOptions.${key} is managed by the module; remove it and use ${instead}`);
      }
    }
  }
  return problems;
}

/**
 * Applies the defaults to the Cluster module options and the declared `clients`, and checks
 * every option, once: throws one `RedisSentinelConfigError` listing every problem (an invalid
 * value is never replaced by a default). The result is frozen.
 */
export function resolveRedisClusterOptions(
  input: RedisClusterModuleOptions | undefined,
  clientsInput?: Record<string, RedisClusterClientRole | RedisClusterClientDefinition>,
): ResolvedRedisClusterOptions {
  const options: RedisClusterModuleOptions = input ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new RedisSentinelConfigError(schemaProblems(options), 'RedisClusterModule');
  }
  const problems: string[] = [];
  let nodes: readonly RedisAddress[] = [];
  if (options.nodes === undefined) {
    problems.push(`nodes is required: the seed nodes of the cluster; ${CLUSTER_EXAMPLE}`);
  } else if (typeof options.nodes !== 'string' && !Array.isArray(options.nodes)) {
    problems.push(
      `nodes must be an array of { host, port } or a "host:port,host:port" string (got ${shown(options.nodes)}); ` +
        'e.g. "redis-1:7000,redis-2:7000,redis-3:7000"',
    );
  } else {
    const parsed = parseSentinelAddresses(options.nodes, {
      option: 'nodes',
      exampleHost: 'redis',
      examplePort: 7000,
    });
    nodes = parsed.addresses;
    problems.push(...parsed.problems);
  }
  problems.push(...schemaProblems(options));
  problems.push(...ioredisProblems('ioredis', options.ioredis));
  const declared = resolveClientDefinitions<RedisClusterClientRole, Partial<ClusterOptions>>(
    clientsInput ?? DEFAULT_CLIENTS,
    REDIS_CLUSTER_CLIENT_ROLES,
    ioredisProblems,
    ' in Cluster mode',
  );
  problems.push(...declared.problems);
  if (problems.length > 0) throw new RedisSentinelConfigError(problems, 'RedisClusterModule');

  const timings = {} as Record<keyof typeof REDIS_CLUSTER_TIMING_DEFAULTS, number>;
  for (const key of Object.keys(REDIS_CLUSTER_TIMING_DEFAULTS) as Array<
    keyof typeof REDIS_CLUSTER_TIMING_DEFAULTS
  >) {
    timings[key] = options[key] ?? REDIS_CLUSTER_TIMING_DEFAULTS[key];
  }
  return Object.freeze({
    mode: 'cluster',
    nodes: Object.freeze(nodes.map((address) => Object.freeze({ ...address }))),
    username: options.username,
    password: options.password,
    tls: tlsOf(options.tls),
    natMap: options.natMap,
    ...timings,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 3,
    ioredis: options.ioredis ?? {},
    clients: Object.freeze(declared.clients),
  });
}
