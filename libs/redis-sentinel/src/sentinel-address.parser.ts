import type { RedisAddress } from './redis-address.js';

/**
 * Parses `"h1:26379,h2:26379"` or an array of `{host, port}` into addresses. Problems are
 * pushed to `problems` (collected into one boot error) instead of thrown one by one.
 */
export function parseSentinelAddresses(
  input: string | ReadonlyArray<Partial<RedisAddress>>,
  problems: string[],
): RedisAddress[] {
  const items: Array<Partial<RedisAddress> | string> =
    typeof input === 'string'
      ? input
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
      : [...input];
  if (items.length === 0) {
    problems.push(
      'sentinels: the list is empty; give at least one "host:port" (three or more in production)',
    );
    return [];
  }
  const out: RedisAddress[] = [];
  for (const item of items) {
    const parsed = typeof item === 'string' ? parseHostPort(item) : item;
    const label = typeof item === 'string' ? `"${item}"` : JSON.stringify(item);
    if (!parsed || typeof parsed.host !== 'string' || parsed.host.length === 0) {
      problems.push(`sentinels: ${label} is not a valid "host:port"`);
      continue;
    }
    if (!isPort(parsed.port)) {
      problems.push(`sentinels: ${label} has no valid port (1-65535)`);
      continue;
    }
    out.push({ host: parsed.host, port: Number(parsed.port) });
  }
  return out;
}

function parseHostPort(text: string): Partial<RedisAddress> | undefined {
  // `[::1]:26379` for IPv6, `host:port` otherwise.
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:\s]+):(\d+)$/.exec(text);
  if (!match) return undefined;
  return { host: match[1], port: Number(match[2]) };
}

export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535;
}
