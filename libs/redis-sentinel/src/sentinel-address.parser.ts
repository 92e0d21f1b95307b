import type { RedisAddress } from './redis-address.js';

/** The Sentinels, or one problem line per bad entry (`sentinels[1] is not host:port ...`). */
export type ParsedSentinelAddresses =
  | { readonly addresses: readonly RedisAddress[]; readonly problems: readonly [] }
  | { readonly addresses: readonly RedisAddress[]; readonly problems: readonly string[] };

/**
 * Parses `"h1:26379,h2:26379"` (`[::1]:26379` for IPv6) or an array of `{host, port}` into
 * addresses. Every bad entry is a problem line (collected into one boot error), never thrown one
 * by one; the index is the entry's place in the list.
 */
export function parseSentinelAddresses(
  input: string | ReadonlyArray<Partial<RedisAddress>>,
  /** The option named in problem lines, and the example host and port (Cluster seed nodes use their own). */
  { option = 'sentinels', exampleHost = 'sentinel', examplePort = 26_379 } = {},
): ParsedSentinelAddresses {
  const items: Array<Partial<RedisAddress> | string> =
    typeof input === 'string'
      ? input
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
      : [...input];
  if (items.length === 0) {
    return {
      addresses: [],
      problems: [
        `${option} is empty; give at least one "host:port" (three or more in production), ` +
          `e.g. "${exampleHost}-1:${examplePort},${exampleHost}-2:${examplePort},${exampleHost}-3:${examplePort}"`,
      ],
    };
  }
  const addresses: RedisAddress[] = [];
  const problems: string[] = [];
  items.forEach((item, index) => {
    const parsed = typeof item === 'string' ? parseHostPort(item) : item;
    const label = typeof item === 'string' ? JSON.stringify(item) : shownAddress(item);
    const host = typeof parsed?.host === 'string' && parsed.host.length > 0 ? parsed.host : undefined;
    if (!parsed || host === undefined) {
      problems.push(
        `${option}[${index}] is not host:port (got ${label}); e.g. "${exampleHost}-${index + 1}:${examplePort}"`,
      );
    } else if (!isPort(parsed.port)) {
      const example =
        typeof item === 'string' ? `"${host}:${examplePort}"` : `{ host: "${host}", port: ${examplePort} }`;
      problems.push(`${option}[${index}] has no valid port, 1-65535 (got ${label}); e.g. ${example}`);
    } else {
      addresses.push({ host, port: Number(parsed.port) });
    }
  });
  return { addresses, problems };
}

function parseHostPort(text: string): Partial<RedisAddress> | undefined {
  // `[::1]:26379` for IPv6, `host:port` otherwise.
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:\s]+):(\d+)$/.exec(text);
  if (!match) return undefined;
  return { host: match[1], port: Number(match[2]) };
}

function shownAddress(item: unknown): string {
  try {
    return JSON.stringify(item) ?? String(item);
  } catch {
    return String(item);
  }
}

export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535;
}
