import {
  DurableWriteError,
  RedisConnectionLostError,
  RedisSentinelUnavailableError,
} from './redis-sentinel.errors.js';

/**
 * Redis error replies (first word) that mean "this node cannot serve the command right now",
 * as seen during a failover or a resync. Anything else (WRONGTYPE, NOSCRIPT, OOM...) is a
 * real answer about the request and stays a 500.
 */
const TRANSIENT_REPLY_CODES = new Set([
  // A demoted master (or a replica) refused a write.
  'READONLY',
  // The node is loading its dataset (restart, full resync of a new replica).
  'LOADING',
  // A replica lost its master and `replica-serve-stale-data no`.
  'MASTERDOWN',
  // `min-replicas-to-write` not met: an isolated master, or a new one without replicas yet.
  'NOREPLICAS',
  // Multi-key operation during a resharding/failover step.
  'TRYAGAIN',
  // A blocking command (BLPOP, XREADGROUP BLOCK) cut short because the master became a replica.
  'UNBLOCKED',
  // Redis Cluster: a slot without a live master (an election running, a whole shard gone).
  'CLUSTERDOWN',
]);

/** Plain `Error` messages that ioredis 6 rejects a command with when the connection is unusable. */
const IOREDIS_CONNECTION_MESSAGES = new Set([
  // `commandTimeout` expired (frozen or unreachable server; also while queued offline).
  'Command timed out',
  // The client ended (retryStrategy gave up, or it was closed) with the command queued.
  'Connection is closed.',
  // Not connected and the offline queue is off (`enableOfflineQueue: false`).
  "Stream isn't writeable and enableOfflineQueue options is false",
]);

/** Socket errors of Node's `net` module when the peer is gone or unreachable. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  syscall?: unknown;
  previousErrors?: unknown;
}

/**
 * `true` for an error that a Redis command rejects with while no master is reachable or the
 * master is changing (failover, frozen or restarting node): the request was not wrong, and
 * the same request is expected to work after a moment. Matches by class, error name, exact
 * ioredis message or Redis reply code; never by a loose pattern, so an application error whose
 * message merely mentions "timeout" or "connection" is not taken for a Redis outage.
 *
 * Whether the command was applied differs per error (see the README's error table): a 503 says
 * "retry", so make retried writes idempotent.
 */
export function isRedisUnavailableError(err: unknown): boolean {
  if (
    err instanceof RedisConnectionLostError ||
    err instanceof RedisSentinelUnavailableError ||
    err instanceof DurableWriteError
  ) {
    return true;
  }
  if (typeof err !== 'object' || err === null) return false;
  const { name, message, code, syscall, previousErrors } = err as ErrorLike;
  if (typeof message !== 'string') return false;
  switch (name) {
    // ioredis's class is not exported; its `name` is (redis-errors sets it from the class).
    case 'MaxRetriesPerRequestError':
    // Redis Cluster: no node answered the slot map query.
    case 'ClusterAllFailedError':
      return true;
    case 'AbortError':
      // A pipeline or MULTI fragment that was half sent when the connection closed.
      return message === 'Command aborted due to connection close';
    case 'ReplyError': {
      const replyCode = message.split(' ', 1)[0]!;
      if (TRANSIENT_REPLY_CODES.has(replyCode)) return true;
      // MULTI/EXEC whose queued commands were refused (e.g. READONLY): judged by those errors.
      return (
        replyCode === 'EXECABORT' &&
        Array.isArray(previousErrors) &&
        previousErrors.length > 0 &&
        previousErrors.every((e) => isRedisUnavailableError(e))
      );
    }
    case 'Error':
      if (IOREDIS_CONNECTION_MESSAGES.has(message)) return true;
      // Redis Cluster: redirected (MOVED/ASK/TRYAGAIN/CLUSTERDOWN) more often than allowed.
      if (message.startsWith('Too many Cluster redirections. Last error: ')) return true;
      // Node socket errors carry `syscall` (`connect`, `read`, `write`); a bare `code` does not count.
      return typeof code === 'string' && NETWORK_ERROR_CODES.has(code) && typeof syscall === 'string';
    default:
      return false;
  }
}
