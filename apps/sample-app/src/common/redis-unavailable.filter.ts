import { ArgumentsHost, Catch, HttpException, HttpStatus } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import {
  DurableWriteError,
  RedisConnectionLostError,
  RedisSentinelUnavailableError,
} from '@bastion/redis-sentinel';
import type { Response } from 'express';

/** Replies meaning "Redis cannot serve this right now", not "this request is wrong". */
const TRANSIENT_REDIS_ERROR =
  /Command timed out|Connection is closed|Stream isn't writeable|max retries per request|READONLY|NOREPLICAS|LOADING|MASTERDOWN|TRYAGAIN|ECONNREFUSED|ECONNRESET|EPIPE/i;

/** True for errors a client should retry after a moment (a failover, a frozen master, no replica). */
export function isRedisUnavailable(err: unknown): boolean {
  if (
    err instanceof RedisConnectionLostError ||
    err instanceof RedisSentinelUnavailableError ||
    err instanceof DurableWriteError
  ) {
    return true;
  }
  const e = err as { name?: unknown; message?: unknown } | null;
  return (
    typeof e?.message === 'string' &&
    (e.name === 'MaxRetriesPerRequestError' || TRANSIENT_REDIS_ERROR.test(e.message))
  );
}

/** The body of every retryable 503, here and in the session middleware. */
export const RETRYABLE_BODY = {
  statusCode: HttpStatus.SERVICE_UNAVAILABLE,
  error: 'Service Unavailable',
  message: 'Redis is unavailable for a moment (failover in progress?); retry',
  retryable: true,
} as const;

/**
 * During a failover, a Redis error is a 503 with `Retry-After`, not a 500: load balancers and
 * clients retry a 503, and the request was not wrong. Everything else goes to Nest's default.
 */
@Catch()
export class RedisUnavailableFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    if (!(exception instanceof HttpException) && isRedisUnavailable(exception)) {
      const res = host.switchToHttp().getResponse<Response>();
      if (!res.headersSent) {
        res.setHeader('Retry-After', '1');
        res.status(HttpStatus.SERVICE_UNAVAILABLE).json(RETRYABLE_BODY);
        return;
      }
    }
    super.catch(exception, host);
  }
}
