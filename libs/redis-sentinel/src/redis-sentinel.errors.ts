/** Invalid module options. Lists every problem at once so a bad config is fixed in one round. */
export class RedisSentinelConfigError extends Error {
  override readonly name = 'RedisSentinelConfigError';
  constructor(
    readonly problems: readonly string[],
    /** The module whose options are invalid (`RedisClusterModule` for Cluster mode). */
    moduleName = 'RedisSentinelModule',
  ) {
    super(`Invalid ${moduleName} options:\n${problems.map((p) => ` - ${p}`).join('\n')}`);
  }
}

/** `RedisClientsService.get(name)` for a name that was not declared in `clients`. */
export class RedisClientNotFoundError extends Error {
  override readonly name = 'RedisClientNotFoundError';
  constructor(
    readonly clientName: string,
    known: readonly string[],
  ) {
    super(
      `No Redis client named "${clientName}"; declared clients: ${known.map((n) => `"${n}"`).join(', ')}`,
    );
  }
}

/**
 * No Sentinel answered, so the master address is unknown. Commands queued while the client
 * looked for the master are rejected with this error instead of waiting.
 */
export class RedisSentinelUnavailableError extends Error {
  override readonly name = 'RedisSentinelUnavailableError';
  constructor(
    readonly masterName: string,
    readonly sentinels: readonly string[],
    readonly lastError?: string,
  ) {
    super(
      `No Sentinel could name the master "${masterName}" (asked ${sentinels.join(', ')})` +
        (lastError ? `; last error: ${lastError}` : ''),
    );
  }
}

/**
 * The connection was dropped (failover, READONLY, socket error) while this command was in
 * flight. It was NOT resent: it may or may not have been applied (at-most-once).
 */
export class RedisConnectionLostError extends Error {
  override readonly name = 'RedisConnectionLostError';
  constructor(
    readonly clientName: string,
    readonly command: string,
    readonly address: string | undefined,
  ) {
    super(
      `Redis client "${clientName}": connection to ${address ?? 'the server'} was lost while ${command.toUpperCase()} ` +
        'was in flight; it was not resent: a write may already have been applied, and a command of a pipeline or MULTI would lose its atomicity',
    );
  }
}

/**
 * A durable write was applied on the master, but fewer replicas than required acknowledged it
 * before the deadline (or the connection changed). Treat it as possibly lost on failover.
 */
export class DurableWriteError extends Error {
  override readonly name = 'DurableWriteError';
  constructor(
    readonly requiredReplicas: number,
    readonly acknowledgedReplicas: number,
    readonly timeoutMs: number,
    readonly results: readonly unknown[],
    reason?: string,
  ) {
    super(
      reason ??
        `Durable write: ${acknowledgedReplicas} of ${requiredReplicas} required replica(s) acknowledged within ${timeoutMs} ms`,
    );
  }
}

/**
 * The module could not start: thrown by `onModuleInit`, one flat line per problem, never a
 * password. `permanent` is true when the servers gave an answer that waiting will not change
 * (unknown `masterName`, a refused credential, a missing ACL permission): then it is thrown at
 * once instead of after `startupTimeoutMs`.
 */
export class RedisSentinelStartupError extends Error {
  override readonly name = 'RedisSentinelStartupError';
  constructor(
    readonly problems: readonly string[],
    readonly permanent: boolean,
  ) {
    super(`RedisSentinelModule: startup failed:\n${problems.map((p) => ` - ${p}`).join('\n')}`);
  }
}

/**
 * `durableWrite` / `durableCall` on a Redis Cluster client with commands whose keys hash to
 * different slots (or with no key at all): `WAIT` counts the acknowledgements of one node's
 * connection, so every write must go to one slot. Nothing was sent.
 */
export class DurableWriteCrossSlotError extends Error {
  override readonly name = 'DurableWriteCrossSlotError';
  constructor(
    /** The slots the pipeline's keys hash to (empty: no command had a key). */
    readonly slots: readonly number[],
  ) {
    super(
      slots.length === 0
        ? 'Durable write on a Redis Cluster: no command of the pipeline has a key, so no node owns it; write at least one key'
        : `Durable write on a Redis Cluster: the keys hash to ${slots.length} slots (${slots.slice(0, 5).join(', ')}${slots.length > 5 ? ', ...' : ''}); ` +
            'WAIT confirms the writes of one node only, so keep them on one slot with a hash tag, e.g. "{order:42}:items" and "{order:42}:total"',
    );
  }
}
