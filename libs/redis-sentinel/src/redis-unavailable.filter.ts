import { Catch, HttpStatus, Logger, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { RateLimitedLogger } from './rate-limited-logger.js';
import { isRedisUnavailableError } from './redis-unavailable.error-check.js';

/**
 * `Retry-After` of the 503, in seconds. 1: the module moves to a new master within milliseconds
 * of Sentinel's announcement, so a longer delay would only keep clients away after recovery.
 */
export const REDIS_UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/**
 * The JSON body of the 503 that `RedisUnavailableFilter` sends. Exported so that code outside
 * Nest's exception layer (an Express session middleware, a proxy) answers with the same body.
 * `code` and `retryable` are the stable fields to test for; `message` is for humans.
 */
export const REDIS_UNAVAILABLE_BODY = Object.freeze({
  statusCode: HttpStatus.SERVICE_UNAVAILABLE,
  error: 'Service Unavailable',
  code: 'REDIS_UNAVAILABLE',
  message: 'Redis is briefly unavailable (for example during a failover); retry after the Retry-After delay',
  retryable: true,
} as const);

/** One log line per error name per interval: a failover rejects many requests at once. */
const LOG_INTERVAL_MS = 10_000;
const logger = new Logger('RedisUnavailableFilter');
const rateLimited = new RateLimitedLogger(logger, LOG_INTERVAL_MS);

/**
 * Catch-all exception filter: an error for which `isRedisUnavailableError()` is true becomes
 * `503 Service Unavailable` + `Retry-After` + `REDIS_UNAVAILABLE_BODY` instead of a 500, because
 * the request was not wrong and load balancers and clients retry a 503. Everything else
 * (HttpExceptions included) goes to Nest's `BaseExceptionFilter` unchanged, as do non-HTTP
 * contexts and responses whose headers were already sent.
 *
 * Register it with `{ provide: APP_FILTER, useClass: RedisUnavailableFilter }` (Nest injects the
 * HTTP adapter), or `app.useGlobalFilters(new RedisUnavailableFilter(app.getHttpAdapter()))`.
 * It answers through Nest's HTTP adapter, not Express's own API (tested with Express).
 */
@Catch()
export class RedisUnavailableFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    const adapter = this.applicationRef ?? this.httpAdapterHost?.httpAdapter;
    if (host.getType() === 'http' && adapter && isRedisUnavailableError(exception)) {
      const response: unknown = host.getArgByIndex(1);
      if (!adapter.isHeadersSent(response)) {
        adapter.setHeader(response, 'Retry-After', String(REDIS_UNAVAILABLE_RETRY_AFTER_SECONDS));
        adapter.reply(response, REDIS_UNAVAILABLE_BODY, HttpStatus.SERVICE_UNAVAILABLE);
        const { name, message } = exception as Error;
        rateLimited.warn(name, {
          message: `Answered 503 + Retry-After: Redis unavailable (${name}: ${message})`,
          event: 'redis-unavailable',
          error: name,
        });
        return;
      }
    }
    super.catch(exception, host);
  }
}
