import type { DiscoveryService } from '@nestjs/core';
import { DEFAULT_REDIS_CONNECTION, REDIS_CONNECTION_NAME } from './redis-sentinel.constants.js';

/**
 * The Redis module instances (Sentinel or Cluster) of the app that use `connection`, and how an
 * error names that connection. Two instances with one name would export the same client tokens,
 * and Nest would silently hand out either one's clients. Runs while the app is built.
 */
export function instancesUsingConnection(
  discovery: DiscoveryService,
  connection: string,
): { count: number; which: string } {
  const count = discovery
    .getProviders()
    .filter((wrapper) => wrapper.token === REDIS_CONNECTION_NAME && wrapper.instance === connection).length;
  const which =
    connection === DEFAULT_REDIS_CONNECTION
      ? 'the default connection (no connectionName)'
      : `connectionName "${connection}"`;
  return { count, which };
}
