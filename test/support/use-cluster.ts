import { afterAll, beforeAll } from 'vitest';
import { RedisCluster, type ClusterOptions } from '@bastion/redis-topology';

/**
 * Starts a Redis Cluster before the suite's tests and tears it down after all of them (also when
 * one fails). Call it first in a `describe`: Vitest runs after-hooks in reverse, so anything a
 * later hook started on top of Redis (an app, a client) is stopped before Redis goes away.
 *
 * Returns a stand-in that forwards to the running cluster, usable from hooks and tests.
 */
export function useCluster(options: ClusterOptions = {}): RedisCluster {
  let running: RedisCluster | undefined;
  beforeAll(async () => {
    running = await RedisCluster.start(options);
  });
  afterAll(async () => {
    await running?.teardown();
  });
  return new Proxy({} as RedisCluster, {
    get(_, property) {
      if (!running) throw new Error('useCluster(): the cluster is only available inside hooks and tests');
      const value: unknown = Reflect.get(running, property, running);
      return typeof value === 'function' ? value.bind(running) : value;
    },
  });
}
