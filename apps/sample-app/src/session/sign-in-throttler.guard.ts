import { Injectable, Logger } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerRequest } from '@nestjs/throttler';
import { isRedisUnavailableError } from '@bastion/redis-sentinel';
import { RepeatedErrorLog } from '../common/repeated-error-log.js';

/** Sign-ins per user and client address in one window, then that pair is blocked. */
export const SIGN_IN_LIMIT = 5;
export const SIGN_IN_WINDOW_MS = 60_000;
export const SIGN_IN_BLOCK_MS = 60_000;

/**
 * Rate limit of `POST /session` (sign-in), counted in Redis (`RedisThrottlerStorage`, see
 * app.module.ts) so that every instance of the app counts the same attempts. Per user AND client
 * address: guessing one user's password from one address is what it stops, and one busy address
 * (a NAT) does not lock everybody out.
 *
 * It fails closed: while no master answers, the attempt cannot be counted and is refused with a
 * retryable 503 (the storage's error, answered by RedisUnavailableFilter), never let through
 * uncounted. That costs nothing here: the sign-in writes the session on the same master anyway.
 */
@Injectable()
export class SignInThrottlerGuard extends ThrottlerGuard {
  /** One line per kind of Redis error (then a count), not one per refused attempt. */
  private readonly refusals = new RepeatedErrorLog(
    new Logger(SignInThrottlerGuard.name),
    'sign-in refused: the rate limit could not be counted (fails closed)',
  );

  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const user: unknown = req.body?.user;
    return `${await super.getTracker(req)}|${typeof user === 'string' ? user : ''}`;
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(request);
    } catch (err) {
      if (isRedisUnavailableError(err)) this.refusals.report(err);
      throw err;
    }
  }
}
