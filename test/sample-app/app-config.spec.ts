import { AppConfigError, parseAppConfig } from '../../apps/sample-app/src/config/app.config.js';

/** The sample app's environment schema: defaults, blanks, and every problem in one error. */
function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    parseAppConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(AppConfigError);
    return (error as AppConfigError).problems;
  }
  throw new Error('expected an AppConfigError');
}

describe('sample app configuration', () => {
  it('takes the defaults for unset and blank variables', () => {
    const config = parseAppConfig({ REDIS_SENTINELS: 's1:26379,s2:26379', PORT: '  ', LOG_LEVEL: '' });
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      nodeEnv: 'development',
      production: false,
      redisMasterName: 'mymaster',
      redisStartupTimeoutMs: undefined,
      logLevel: 'info',
      logFormat: 'json',
      trustProxy: false,
      workerConcurrency: 4,
      jobAckTimeoutMs: 1000,
      healthReadyShareMs: 100,
    });
  });

  it('converts what it reads: numbers, case, trust proxy', () => {
    const config = parseAppConfig({
      REDIS_URL: 'redis://localhost:6380',
      NODE_ENV: 'production',
      PORT: '8080',
      LOG_LEVEL: 'DEBUG',
      LOG_FORMAT: 'Pretty',
      TRUST_PROXY: '2',
      REDIS_STARTUP_TIMEOUT_MS: '1500',
      HEALTH_READY_SHARE_MS: '0',
    });
    expect(config).toMatchObject({
      healthReadyShareMs: 0,
      port: 8080,
      production: true,
      logLevel: 'debug',
      logFormat: 'pretty',
      trustProxy: 2,
      redisStartupTimeoutMs: 1500,
    });
    expect(parseAppConfig({ REDIS_URL: 'redis://r', TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toBe(
      '10.0.0.0/8',
    );
  });

  it('lists every problem at once', () => {
    expect(
      problemsOf({
        REDIS_SENTINELS: 'sentinel-1:26379,sentinel-2;26379,:1',
        PORT: '70000',
        WORKER_CONCURRENCY: 'four',
        LOG_LEVEL: 'loud',
        LOG_FORMAT: 'xml',
        LOKI_URL: 'ftp://user:pw@loki',
        HEALTH_READY_SHARE_MS: '5000',
      }),
    ).toEqual([
      'PORT must be an integer between 0 and 65535 (got 70000)',
      'REDIS_SENTINELS entry "sentinel-2;26379" is not host:port (expected e.g. "sentinel-1:26379")',
      'REDIS_SENTINELS entry ":1" is not host:port (expected e.g. "sentinel-1:26379")',
      'LOKI_URL must use http: or https: (got "ftp:")',
      'LOKI_URL must not carry a password: put it in a secret file instead',
      expect.stringMatching(/^LOG_LEVEL must be one of .*info.* \(got "loud"\)$/),
      'LOG_FORMAT must be "json" or "pretty" (got "xml")',
      'WORKER_CONCURRENCY must be an integer between 1 and 256 (got "four")',
      'HEALTH_READY_SHARE_MS must be an integer between 0 and 1000 (got 5000)',
    ]);
  });

  it('needs Sentinels, Cluster nodes or, for development, a Redis URL', () => {
    expect(problemsOf({})).toEqual([
      'set REDIS_SENTINELS (host:port,host:port,...) for Sentinel, REDIS_CLUSTER_NODES (host:port,...) for Redis Cluster, or, for development, REDIS_URL',
    ]);
    expect(problemsOf({ REDIS_URL: 'not a url' })).toEqual(['REDIS_URL is not a valid URL']);
  });

  it('picks the Redis mode from the environment; Sentinels and Cluster nodes together are a problem', () => {
    expect(parseAppConfig({ REDIS_URL: 'redis://r' }).redisMode).toBe('standalone');
    expect(parseAppConfig({ REDIS_SENTINELS: 's1:26379', REDIS_URL: 'redis://r' }).redisMode).toBe(
      'sentinel',
    );
    expect(parseAppConfig({ REDIS_CLUSTER_NODES: 'r1:7000, r2:7001', REDIS_URL: 'redis://r' })).toMatchObject(
      {
        redisMode: 'cluster',
        redisClusterNodes: 'r1:7000, r2:7001',
      },
    );
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'r1:7000,r2', REDIS_SENTINELS: 's1:26379' })).toEqual([
      'REDIS_CLUSTER_NODES entry "r2" is not host:port (expected e.g. "redis-1:6379")',
      'set REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both: each picks a Redis mode',
    ]);
  });

  it('METRICS_ENABLED: on by default, "false" (any case) turns it off, anything else is a problem', () => {
    const sentinels = { REDIS_SENTINELS: 's1:26379' };
    expect(parseAppConfig(sentinels).metricsEnabled).toBe(true);
    expect(parseAppConfig({ ...sentinels, METRICS_ENABLED: ' ' }).metricsEnabled).toBe(true);
    expect(parseAppConfig({ ...sentinels, METRICS_ENABLED: 'true' }).metricsEnabled).toBe(true);
    expect(parseAppConfig({ ...sentinels, METRICS_ENABLED: 'false' }).metricsEnabled).toBe(false);
    expect(parseAppConfig({ ...sentinels, METRICS_ENABLED: 'FALSE' }).metricsEnabled).toBe(false);
    expect(problemsOf({ ...sentinels, METRICS_ENABLED: 'no' })).toEqual([
      'METRICS_ENABLED must be "true" or "false" (got "no")',
    ]);
    expect(problemsOf({ ...sentinels, METRICS_ENABLED: '0', PORT: 'x' })).toEqual([
      'PORT must be an integer between 0 and 65535 (got "x")',
      'METRICS_ENABLED must be "true" or "false" (got "0")',
    ]);
  });
});
