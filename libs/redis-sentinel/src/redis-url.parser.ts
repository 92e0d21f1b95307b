import type { RedisAddress } from './redis-address.js';
import { isPort } from './sentinel-address.parser.js';

/** What a `redis://` / `rediss://` URL says. `password` is a credential: never print it. */
export interface ParsedRedisUrl {
  readonly address: RedisAddress;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly db: number | undefined;
  readonly tls: boolean;
}

const EXAMPLE = 'e.g. "redis://redis:6379/0", or "rediss://redis:6380" for TLS';

/**
 * Parses `redis://[user:pass@]host[:port][/db]` (`rediss://` for TLS; port 6379 when absent). Returns
 * the parts, or the rest of a problem line after the option's path. The URL itself is never echoed:
 * it may hold a password.
 */
export function parseRedisUrl(text: string): ParsedRedisUrl | { readonly problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `is not a valid URL (not shown: it may hold a password); ${EXAMPLE}` };
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return { problem: `has the unsupported scheme "${url.protocol}"; use redis: or rediss:, ${EXAMPLE}` };
  }
  const port = url.port ? Number(url.port) : 6379;
  if (!url.hostname || !isPort(port)) {
    return { problem: `needs a host and a valid port (1-65535); ${EXAMPLE}` };
  }
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText ? Number(dbText) : undefined;
  if (db !== undefined && !(Number.isInteger(db) && db >= 0)) {
    return {
      problem: `has a path that is not a database number (got ${JSON.stringify(url.pathname)}); ${EXAMPLE}`,
    };
  }
  return {
    address: { host: url.hostname.replace(/^\[|\]$/g, ''), port },
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db,
    tls: url.protocol === 'rediss:',
  };
}
