/** A `host:port` pair as Redis and Sentinel report it. */
export interface RedisAddress {
  host: string;
  port: number;
}

/** `"host:port"`, the form used in logs, health details and `natMap` keys. */
export function formatAddress(address: RedisAddress | undefined | null): string | undefined {
  return address ? `${address.host}:${address.port}` : undefined;
}

export function sameAddress(a: RedisAddress | undefined | null, b: RedisAddress | undefined | null): boolean {
  return !!a && !!b && a.host === b.host && a.port === b.port;
}
