import type { RedisOptions } from 'ioredis';
import type {
  ResolvedClientDefinition,
  ResolvedRedisSentinelOptions,
} from './redis-sentinel-options.resolver.js';

/** What the mapping needs from the client that owns the connection (not options). */
export interface IoredisOptionsHooks {
  /** Sentinel mode: the connector class ioredis constructs, bound to this client. */
  readonly Connector: RedisOptions['Connector'] | undefined;
  /** Delay before reconnect attempt `attempt`, or `null` to stop. */
  readonly retryStrategy: (attempt: number) => number | null;
}

/**
 * The ioredis options of one client: the module's resolved options mapped to ioredis's names, the
 * module's fixed choices (lazy connect, ready check, no resend of a possibly applied write,
 * reconnect on READONLY), then the module-wide and the client's own `ioredis` overrides. Pure.
 */
export function toIoredisOptions(
  options: ResolvedRedisSentinelOptions,
  definition: ResolvedClientDefinition,
  hooks: IoredisOptionsHooks,
): RedisOptions {
  const tls = options.tls ? { tls: { ...options.tls } } : {};
  const target: RedisOptions =
    options.mode === 'standalone'
      ? { host: options.standalone!.host, port: options.standalone!.port, ...tls }
      : { ...tls, Connector: hooks.Connector };
  return {
    ...target,
    username: options.username,
    password: options.password,
    db: options.db,
    // Nothing connects before the application initialises (onModuleInit).
    lazyConnect: true,
    // The master role check runs inside the ready check.
    enableReadyCheck: true,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    socketTimeout: options.socketTimeoutMs,
    keepAlive: options.keepAliveMs,
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    autoResendUnfulfilledCommands: options.autoResendUnfulfilledCommands,
    autoResubscribe: true,
    enableOfflineQueue: true,
    connectionName: `bastion:${definition.name}`,
    // A demoted master answers writes with READONLY: reconnect, and reject (never resend) the write.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 1 : false),
    retryStrategy: hooks.retryStrategy,
    ...options.ioredis,
    ...definition.ioredis,
  };
}
