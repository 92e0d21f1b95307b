import { registerAs } from '@nestjs/config';
import { LOKI_LOG_LEVELS, type LokiLogLevel } from '@bastion/loki-logger';
import * as v from 'valibot';

export type LogFormat = 'json' | 'pretty';
export type RedisMode = 'sentinel' | 'cluster' | 'standalone';

/** The sample app's non-secret configuration, read from environment variables once at boot. */
export interface AppConfig {
  port: number;
  host: string;
  nodeEnv: string;
  production: boolean;
  /**
   * Which Redis the app runs on, from the environment: `cluster` (REDIS_CLUSTER_NODES), `sentinel`
   * (REDIS_SENTINELS), or `standalone` (REDIS_URL, development).
   */
  redisMode: RedisMode;
  /** Sentinel mode when non-empty; otherwise `redisUrl` (standalone, for development). */
  redisSentinels: string;
  /** Redis Cluster seed nodes (`host:port,...`) when non-empty. */
  redisClusterNodes: string;
  redisMasterName: string;
  /** How long the Redis clients may take to connect at boot (the lib's default when unset). */
  redisStartupTimeoutMs: number | undefined;
  redisUrl: string | undefined;
  secretsDir: string;
  lokiUrl: string | undefined;
  lokiTenant: string | undefined;
  lokiUsername: string | undefined;
  logLevel: LokiLogLevel;
  logFormat: LogFormat;
  serviceName: string;
  /**
   * Express `trust proxy`: `false` (default), `true`, a hop count, or addresses/subnets. Set it
   * behind a TLS-terminating proxy, so that the session cookie is marked Secure.
   */
  trustProxy: boolean | number | string;
  /** Concurrent jobs the in-app worker processes. */
  workerConcurrency: number;
  /** Deadline for a job to be stored and acknowledged by a replica before `POST /jobs` answers 503. */
  jobAckTimeoutMs: number;
  /** Readiness probes within this long of a check share its outcome; 0: every probe checks. */
  healthReadyShareMs: number;
  /** `GET /metrics` and the libs' metrics modules; `false` leaves them out (no prom-client registry). */
  metricsEnabled: boolean;
}

const LOG_LEVELS = Object.keys(LOKI_LOG_LEVELS) as LokiLogLevel[];

/** Thrown at boot with every configuration problem at once. */
export class AppConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'AppConfigError';
  }
}

/** The raw value in a message (never a secret: secrets are files, not these variables). */
const got = (issue: v.BaseIssue<unknown>): string => JSON.stringify(issue.input);

/** An integer variable within [min, max]. */
function integer(name: string, min: number, max: number) {
  const message = (issue: v.BaseIssue<unknown>) =>
    `${name} must be an integer between ${min} and ${max} (got ${got(issue)})`;
  return v.pipe(
    v.string(),
    v.regex(/^-?\d+$/, message),
    v.transform(Number),
    v.minValue(min, message),
    v.maxValue(max, message),
  );
}

/** A URL variable with one of `protocols` and no password in it (passwords live in secret files). */
function url(name: string, protocols: readonly string[]) {
  return v.pipe(
    v.string(),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      let parsed: URL;
      try {
        parsed = new URL(dataset.value);
      } catch {
        addIssue({ message: `${name} is not a valid URL` });
        return;
      }
      if (!protocols.includes(parsed.protocol))
        addIssue({ message: `${name} must use ${protocols.join(' or ')} (got "${parsed.protocol}")` });
      if (parsed.password)
        addIssue({ message: `${name} must not carry a password: put it in a secret file instead` });
    }),
  );
}

/** `host:port,host:port,...`: one problem per bad entry. */
function addressList(name: string, example: string) {
  return v.pipe(
    v.string(),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      for (const entry of dataset.value.split(',')) {
        const m = /^\s*([^\s:]+):(\d{1,5})\s*$/.exec(entry);
        if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
          addIssue({
            message: `${name} entry "${entry.trim()}" is not host:port (expected e.g. "${example}")`,
          });
      }
    }),
  );
}

/** A switch: "true" or "false" (any case). */
function flag(name: string) {
  return v.pipe(
    v.string(),
    v.toLowerCase(),
    v.picklist(['true', 'false'], (i) => `${name} must be "true" or "false" (got ${got(i)})`),
    v.transform((raw) => raw === 'true'),
  );
}

/** Express `trust proxy`: "false", "true", a hop count, or addresses/subnets. */
const trustProxy = v.pipe(
  v.string(),
  v.transform((raw): boolean | number | string =>
    raw === 'false' ? false : raw === 'true' ? true : /^\d+$/.test(raw) ? Number(raw) : raw,
  ),
);

/** The environment, after blank variables were dropped: each unset variable takes its default. */
const EnvSchema = v.object({
  PORT: v.optional(integer('PORT', 0, 65535), '3000'),
  HOST: v.optional(v.string(), '0.0.0.0'),
  NODE_ENV: v.optional(v.string(), 'development'),
  REDIS_SENTINELS: v.optional(addressList('REDIS_SENTINELS', 'sentinel-1:26379')),
  REDIS_CLUSTER_NODES: v.optional(addressList('REDIS_CLUSTER_NODES', 'redis-1:6379')),
  REDIS_MASTER_NAME: v.optional(v.string(), 'mymaster'),
  REDIS_STARTUP_TIMEOUT_MS: v.optional(integer('REDIS_STARTUP_TIMEOUT_MS', 0, 600_000)),
  REDIS_URL: v.optional(url('REDIS_URL', ['redis:', 'rediss:'])),
  SECRETS_DIR: v.optional(v.string(), '/run/secrets'),
  LOKI_URL: v.optional(url('LOKI_URL', ['http:', 'https:'])),
  LOKI_TENANT: v.optional(v.string()),
  LOKI_USERNAME: v.optional(v.string()),
  LOG_LEVEL: v.optional(
    v.pipe(
      v.string(),
      v.toLowerCase(),
      v.picklist(LOG_LEVELS, (i) => `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${got(i)})`),
    ),
    'info',
  ),
  LOG_FORMAT: v.optional(
    v.pipe(
      v.string(),
      v.toLowerCase(),
      v.picklist(['json', 'pretty'], (i) => `LOG_FORMAT must be "json" or "pretty" (got ${got(i)})`),
    ),
    'json',
  ),
  SERVICE_NAME: v.optional(v.string(), 'sample-app'),
  TRUST_PROXY: v.optional(trustProxy, 'false'),
  WORKER_CONCURRENCY: v.optional(integer('WORKER_CONCURRENCY', 1, 256), '4'),
  JOB_ACK_TIMEOUT_MS: v.optional(integer('JOB_ACK_TIMEOUT_MS', 10, 60_000), '1000'),
  HEALTH_READY_SHARE_MS: v.optional(integer('HEALTH_READY_SHARE_MS', 0, 1000), '100'),
  METRICS_ENABLED: v.optional(flag('METRICS_ENABLED'), 'true'),
});

/** Parses and validates the environment; collects every problem before throwing one error. */
export function parseAppConfig(env: NodeJS.ProcessEnv): AppConfig {
  // Trimmed; a blank variable counts as unset (compose files often pass `VAR=`).
  const present: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.entries)) {
    const value = env[key]?.trim();
    if (value) present[key] = value;
  }
  const result = v.safeParse(EnvSchema, present);
  const problems = result.issues?.map((issue) => issue.message) ?? [];
  if (!present.REDIS_SENTINELS && !present.REDIS_CLUSTER_NODES && !present.REDIS_URL)
    problems.push(
      'set REDIS_SENTINELS (host:port,host:port,...) for Sentinel, REDIS_CLUSTER_NODES (host:port,...) for Redis Cluster, or, for development, REDIS_URL',
    );
  // REDIS_URL is the development fallback, ignored beside either; these two would contradict each other.
  if (present.REDIS_SENTINELS && present.REDIS_CLUSTER_NODES)
    problems.push('set REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both: each picks a Redis mode');
  if (!result.success || problems.length > 0) throw new AppConfigError(problems);
  const e = result.output;
  return {
    port: e.PORT,
    host: e.HOST,
    nodeEnv: e.NODE_ENV,
    production: e.NODE_ENV === 'production',
    redisMode: e.REDIS_CLUSTER_NODES ? 'cluster' : e.REDIS_SENTINELS ? 'sentinel' : 'standalone',
    redisSentinels: e.REDIS_SENTINELS ?? '',
    redisClusterNodes: e.REDIS_CLUSTER_NODES ?? '',
    redisMasterName: e.REDIS_MASTER_NAME,
    redisStartupTimeoutMs: e.REDIS_STARTUP_TIMEOUT_MS,
    redisUrl: e.REDIS_URL,
    secretsDir: e.SECRETS_DIR,
    lokiUrl: e.LOKI_URL,
    lokiTenant: e.LOKI_TENANT,
    lokiUsername: e.LOKI_USERNAME,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    serviceName: e.SERVICE_NAME,
    trustProxy: e.TRUST_PROXY,
    workerConcurrency: e.WORKER_CONCURRENCY,
    jobAckTimeoutMs: e.JOB_ACK_TIMEOUT_MS,
    healthReadyShareMs: e.HEALTH_READY_SHARE_MS,
    metricsEnabled: e.METRICS_ENABLED,
  };
}

/** `ConfigService.get('app')` / `@Inject(appConfig.KEY)`. */
export const appConfig = registerAs('app', () => parseAppConfig(process.env));
