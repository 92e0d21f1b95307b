import { afterAll, beforeAll } from 'vitest';
import { RedisTopology, type TopologyOptions } from '@bastion/redis-topology';

/**
 * Starts a topology before the suite's tests and tears it down after all of them (also when one
 * fails). Call it first in a `describe`: Vitest runs after-hooks in reverse, so anything a later
 * hook started on top of Redis (an app) is stopped before Redis goes away.
 *
 * Returns a stand-in that forwards to the running topology, usable from hooks and tests.
 */
export function useTopology(options: TopologyOptions = {}): RedisTopology {
  let running: RedisTopology | undefined;
  beforeAll(async () => {
    running = await RedisTopology.start(options);
  });
  afterAll(async () => {
    await running?.teardown();
  });
  return new Proxy({} as RedisTopology, {
    get(_, property) {
      if (!running) throw new Error('useTopology(): the topology is only available inside hooks and tests');
      const value: unknown = Reflect.get(running, property, running);
      return typeof value === 'function' ? value.bind(running) : value;
    },
  });
}
