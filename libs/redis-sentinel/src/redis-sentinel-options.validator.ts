import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions } from 'ioredis';
import type { RedisAddress } from './redis-address.js';
import { RedisSentinelConfigError } from './redis-sentinel.errors.js';
import {
  REDIS_CLIENT_ROLES,
  type RedisClientDefinition,
  type RedisClientRole,
  type RedisNatMap,
  type RedisSentinelModuleOptions,
} from './redis-sentinel-options.interface.js';
import { isPort, parseSentinelAddresses } from './sentinel-address.parser.js';

export interface ResolvedClientDefinition {
  name: string;
  role: RedisClientRole;
  ioredis: Partial<RedisOptions>;
}

/** Options after validation, with every default filled in. */
export interface ResolvedRedisSentinelOptions {
  mode: 'sentinel' | 'standalone';
  sentinels: RedisAddress[];
  masterName: string;
  standalone: RedisAddress | undefined;
  username: string | undefined;
  password: string | undefined;
  sentinelUsername: string | undefined;
  sentinelPassword: string | undefined;
  db: number;
  tls: ConnectionOptions | undefined;
  sentinelTls: ConnectionOptions | undefined;
  natMap: RedisNatMap | undefined;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  socketTimeoutMs: number;
  keepAliveMs: number;
  maxRetriesPerRequest: number;
  sentinelCommandTimeoutMs: number;
  reconnectMaxDelayMs: number;
  sentinelRetryMaxDelayMs: number;
  startupTimeoutMs: number;
  shutdownTimeoutMs: number;
  replicaRecheckIntervalMs: number;
  topologyCheckIntervalMs: number;
  errorLogIntervalMs: number;
  autoResendUnfulfilledCommands: boolean;
  failoverWatcher: boolean;
  ioredis: Partial<RedisOptions>;
  clients: ResolvedClientDefinition[];
}

const TIMEOUT_DEFAULTS = {
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
} as const;

/** ioredis keys that the module owns; setting them through the escape hatch would bypass it. */
const MANAGED_IOREDIS_KEYS = ['sentinels', 'name', 'Connector', 'role'] as const;

/** Validates the options and fills defaults. Throws ONE `RedisSentinelConfigError` listing all problems. */
export function resolveRedisSentinelOptions(
  input: RedisSentinelModuleOptions | undefined,
  clientsInput: Record<string, RedisClientRole | RedisClientDefinition> | undefined,
): ResolvedRedisSentinelOptions {
  const problems: string[] = [];
  const options = input ?? {};
  if (typeof options !== 'object') throw new RedisSentinelConfigError(['options must be an object']);

  const hasSentinels = options.sentinels !== undefined;
  const hasStandalone = options.url !== undefined || options.host !== undefined;
  let mode: 'sentinel' | 'standalone' = 'sentinel';
  if (hasSentinels && hasStandalone) {
    problems.push(
      'give either sentinels + masterName (Sentinel mode) or url/host (standalone mode), not both',
    );
  } else if (!hasSentinels && !hasStandalone) {
    problems.push(
      'no server given: set sentinels + masterName (Sentinel mode) or url/host (standalone mode)',
    );
  } else if (hasStandalone) {
    mode = 'standalone';
  }

  let sentinels: RedisAddress[] = [];
  let masterName = '';
  if (mode === 'sentinel' && hasSentinels) {
    if (typeof options.sentinels !== 'string' && !Array.isArray(options.sentinels)) {
      problems.push('sentinels: must be an array of {host, port} or a "h1:p1,h2:p2" string');
    } else {
      sentinels = parseSentinelAddresses(options.sentinels, problems);
    }
    if (typeof options.masterName !== 'string' || options.masterName.trim() === '') {
      problems.push('masterName: required in Sentinel mode (the name in "sentinel monitor <name> ...")');
    } else {
      masterName = options.masterName;
    }
  }

  let standalone: RedisAddress | undefined;
  let username = options.username;
  let password = options.password;
  let db = options.db;
  let tls = normalizeTls(options.tls, 'tls', problems);
  if (mode === 'standalone' && hasStandalone) {
    if (options.url !== undefined) {
      const fromUrl = parseRedisUrl(options.url, problems);
      if (fromUrl) {
        standalone = fromUrl.address;
        username ??= fromUrl.username;
        password ??= fromUrl.password;
        db ??= fromUrl.db;
        if (fromUrl.tls && !tls) tls = {};
      }
    } else if (typeof options.host !== 'string' || options.host === '') {
      problems.push('host: must be a non-empty string');
    } else {
      const port = options.port ?? 6379;
      if (!isPort(port)) problems.push('port: must be an integer between 1 and 65535');
      standalone = { host: options.host, port };
    }
  }

  if (db !== undefined && !(Number.isInteger(db) && db >= 0)) problems.push('db: must be an integer >= 0');

  const timeouts = {} as Record<keyof typeof TIMEOUT_DEFAULTS, number>;
  for (const key of Object.keys(TIMEOUT_DEFAULTS) as Array<keyof typeof TIMEOUT_DEFAULTS>) {
    const value = options[key];
    const allowZero = key === 'startupTimeoutMs';
    if (value !== undefined && !(Number.isInteger(value) && (value > 0 || (allowZero && value === 0)))) {
      problems.push(`${key}: must be a positive integer (milliseconds)`);
    }
    timeouts[key] = value ?? TIMEOUT_DEFAULTS[key];
  }
  const maxRetries = options.maxRetriesPerRequest ?? 3;
  if (!(Number.isInteger(maxRetries) && maxRetries >= 0))
    problems.push('maxRetriesPerRequest: must be an integer >= 0');

  if (
    options.natMap !== undefined &&
    typeof options.natMap !== 'function' &&
    typeof options.natMap !== 'object'
  ) {
    problems.push('natMap: must be an object {"host:port": {host, port}} or a function');
  }

  for (const key of ['failoverWatcher', 'autoResendUnfulfilledCommands'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean')
      problems.push(`${key}: must be true or false`);
  }

  const ioredis = options.ioredis ?? {};
  checkIoredisOverrides('ioredis', ioredis, mode, problems);

  const clients: ResolvedClientDefinition[] = [];
  const declared = clientsInput ?? { default: 'master' };
  if (typeof declared !== 'object' || Object.keys(declared).length === 0) {
    problems.push('clients: declare at least one client, e.g. { default: "master" }');
  } else {
    for (const [name, def] of Object.entries(declared)) {
      const role = typeof def === 'string' ? def : (def?.role ?? 'master');
      if (name.trim() === '') problems.push('clients: a client name is empty');
      if (!REDIS_CLIENT_ROLES.includes(role)) {
        problems.push(
          `clients.${name}: unknown role "${String(role)}" (use ${REDIS_CLIENT_ROLES.join(', ')})`,
        );
      }
      const own = typeof def === 'object' && def ? (def.ioredis ?? {}) : {};
      checkIoredisOverrides(`clients.${name}.ioredis`, own, mode, problems);
      clients.push({ name, role, ioredis: own });
    }
  }

  if (problems.length > 0) throw new RedisSentinelConfigError(problems);

  return {
    mode,
    sentinels,
    masterName,
    standalone,
    username,
    password,
    sentinelUsername: options.sentinelUsername,
    sentinelPassword: options.sentinelPassword,
    db: db ?? 0,
    tls,
    sentinelTls: normalizeTls(options.sentinelTls, 'sentinelTls', problems),
    natMap: options.natMap,
    ...timeouts,
    maxRetriesPerRequest: maxRetries,
    autoResendUnfulfilledCommands: options.autoResendUnfulfilledCommands ?? false,
    failoverWatcher: options.failoverWatcher ?? true,
    ioredis,
    clients,
  };
}

function checkIoredisOverrides(
  path: string,
  overrides: Partial<RedisOptions>,
  mode: 'sentinel' | 'standalone',
  problems: string[],
): void {
  if (typeof overrides !== 'object' || overrides === null) {
    problems.push(`${path}: must be an object of ioredis options`);
    return;
  }
  for (const key of MANAGED_IOREDIS_KEYS) {
    if (key in overrides)
      problems.push(`${path}.${key}: managed by the module; use the module options instead`);
  }
  if (mode === 'sentinel' && overrides.enableReadyCheck === false) {
    problems.push(
      `${path}.enableReadyCheck: false is not allowed in Sentinel mode (the master role check runs in the ready check)`,
    );
  }
}

function normalizeTls(
  value: boolean | ConnectionOptions | undefined,
  path: string,
  problems: string[],
): ConnectionOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (typeof value !== 'object') {
    problems.push(`${path}: must be true/false or Node tls options`);
    return undefined;
  }
  return value;
}

function parseRedisUrl(
  text: string,
  problems: string[],
): { address: RedisAddress; username?: string; password?: string; db?: number; tls: boolean } | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Never echo the URL: it may hold a password.
    problems.push('url: not a valid URL (expected redis://host:port or rediss://host:port)');
    return undefined;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    problems.push(`url: unsupported scheme "${url.protocol}" (use redis: or rediss:)`);
    return undefined;
  }
  const port = url.port ? Number(url.port) : 6379;
  if (!url.hostname || !isPort(port)) {
    problems.push('url: needs a host and a valid port');
    return undefined;
  }
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText ? Number(dbText) : undefined;
  if (db !== undefined && !(Number.isInteger(db) && db >= 0))
    problems.push('url: the path must be a database number');
  return {
    address: { host: url.hostname.replace(/^\[|\]$/g, ''), port },
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db,
    tls: url.protocol === 'rediss:',
  };
}
