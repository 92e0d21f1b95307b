import session from 'express-session';
import type { RedisClient } from '../common/redis-clients.js';

declare module 'express-session' {
  interface SessionData {
    /** The signed-in user of this sample app. */
    user?: string;
  }
}

/**
 * express-session store on an ioredis client from `@bastion/redis-sentinel`.
 *
 * Not connect-redis: connect-redis 10 peer-depends on node-redis (`redis >= 5`) only, so it cannot
 * run on the module's ioredis clients, and a node-redis client of its own would not follow a
 * Sentinel failover. This is the equivalent on ioredis (about 40 lines). Writes go through the
 * master client, so a session survives a failover like any other replicated key. Each command
 * touches one key (`sess:<id>`), so it runs as is on a Redis Cluster.
 */
export class RedisSessionStore extends session.Store {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix = 'sess:',
    /** TTL when the cookie has no expiry. One day. */
    private readonly defaultTtlSeconds = 86_400,
  ) {
    super();
  }

  override get(sid: string, cb: (err: unknown, session?: session.SessionData | null) => void): void {
    this.client.get(this.prefix + sid).then(
      (raw) => cb(null, raw ? (JSON.parse(raw) as session.SessionData) : null),
      (err: unknown) => cb(err),
    );
  }

  override set(sid: string, sess: session.SessionData, cb?: (err?: unknown) => void): void {
    this.client.set(this.prefix + sid, JSON.stringify(sess), 'EX', this.ttl(sess)).then(
      () => cb?.(),
      (err: unknown) => cb?.(err),
    );
  }

  override touch(sid: string, sess: session.SessionData, cb?: (err?: unknown) => void): void {
    this.client.expire(this.prefix + sid, this.ttl(sess)).then(
      () => cb?.(),
      (err: unknown) => cb?.(err),
    );
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.client.del(this.prefix + sid).then(
      () => cb?.(),
      (err: unknown) => cb?.(err),
    );
  }

  private ttl(sess: session.SessionData): number {
    const expires = sess.cookie?.expires;
    if (!expires) return this.defaultTtlSeconds;
    return Math.max(1, Math.ceil((new Date(expires).getTime() - Date.now()) / 1000));
  }
}
