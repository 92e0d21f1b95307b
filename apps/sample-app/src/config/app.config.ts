import { registerAs } from '@nestjs/config';
import { LOKI_LOG_LEVELS, type LokiLogLevel } from '@bastion/loki-logger';

export type LogFormat = 'json' | 'pretty';

/** The sample app's non-secret configuration, read from environment variables once at boot. */
export interface AppConfig {
  port: number;
  host: string;
  nodeEnv: string;
  production: boolean;
  /** Sentinel mode when non-empty; otherwise `redisUrl` (standalone, for development). */
  redisSentinels: string;
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
}

const LOG_LEVELS = Object.keys(LOKI_LOG_LEVELS);

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

function trustProxy(raw: string | undefined): boolean | number | string {
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

/** Parses and validates the environment; collects every problem before throwing one error. */
export function parseAppConfig(env: NodeJS.ProcessEnv): AppConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must use ${protocols.join(' or ')} (got "${parsed.protocol}")`);
      }
      if (parsed.password) {
        problems.push(`${name} must not carry a password: put it in a secret file instead`);
      }
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return raw;
  };

  const nodeEnv = str('NODE_ENV') ?? 'development';
  const redisSentinels = str('REDIS_SENTINELS') ?? '';
  for (const entry of redisSentinels ? redisSentinels.split(',') : []) {
    const m = /^\s*([^\s:]+):(\d{1,5})\s*$/.exec(entry);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      problems.push(
        `REDIS_SENTINELS entry "${entry.trim()}" is not host:port (expected e.g. "sentinel-1:26379")`,
      );
    }
  }
  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:']);
  if (!redisSentinels && !redisUrl) {
    problems.push('set REDIS_SENTINELS (host:port,host:port,...) or, for development, REDIS_URL');
  }
  const logLevel = (str('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }
  const logFormat = (str('LOG_FORMAT') ?? 'json').toLowerCase();
  if (logFormat !== 'json' && logFormat !== 'pretty') {
    problems.push(`LOG_FORMAT must be "json" or "pretty" (got "${logFormat}")`);
  }
  const config: AppConfig = {
    port: int('PORT', 3000, 0, 65535),
    host: str('HOST') ?? '0.0.0.0',
    nodeEnv,
    production: nodeEnv === 'production',
    redisSentinels,
    redisMasterName: str('REDIS_MASTER_NAME') ?? 'mymaster',
    redisStartupTimeoutMs:
      str('REDIS_STARTUP_TIMEOUT_MS') === undefined
        ? undefined
        : int('REDIS_STARTUP_TIMEOUT_MS', 0, 0, 600_000),
    redisUrl,
    secretsDir: str('SECRETS_DIR') ?? '/run/secrets',
    lokiUrl: url('LOKI_URL', ['http:', 'https:']),
    lokiTenant: str('LOKI_TENANT'),
    lokiUsername: str('LOKI_USERNAME'),
    logLevel: logLevel as LokiLogLevel,
    logFormat: logFormat as LogFormat,
    serviceName: str('SERVICE_NAME') ?? 'sample-app',
    trustProxy: trustProxy(str('TRUST_PROXY')),
    workerConcurrency: int('WORKER_CONCURRENCY', 4, 1, 256),
    jobAckTimeoutMs: int('JOB_ACK_TIMEOUT_MS', 1000, 10, 60_000),
  };
  if (problems.length > 0) throw new AppConfigError(problems);
  return config;
}

/** `ConfigService.get('app')` / `@Inject(appConfig.KEY)`. */
export const appConfig = registerAs('app', () => parseAppConfig(process.env));
