/** The independent failover clock and trigger of the benchmarks and the redis-sentinel specs. */
import { Redis } from 'ioredis';
import type { RedisTopology } from '@bastion/redis-topology';
import { setTimeout as sleep } from 'node:timers/promises';

/** `+switch-master` as the Sentinels announce it: one plain subscriber per Sentinel. */
export async function watchSwitches(topo: RedisTopology, sentinelPassword: string) {
  const switches: Array<{ at: number; to: number }> = [];
  const subs = topo.sentinels.map((s) => {
    const c = new Redis({
      host: s.host,
      port: s.port,
      password: sentinelPassword,
      protocol: 2,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 100,
    });
    c.on('error', () => undefined);
    c.on('message', (_ch: string, msg: string) => {
      const to = Number(msg.split(' ')[4]);
      // Every Sentinel announces the same switch: keep the first.
      if (!switches.some((w) => w.to === to && Date.now() - w.at < 5000))
        switches.push({ at: Date.now(), to });
    });
    return c;
  });
  await Promise.all(subs.map((c) => c.subscribe('+switch-master')));
  return {
    switches,
    ready: () => subs.every((c) => c.status === 'ready'),
    close: () => subs.forEach((c) => c.disconnect()),
  };
}

/** `SENTINEL FAILOVER`, retried for 10 s while the Sentinels refuse (a failover still settling). */
export async function triggerFailoverWithRetry(topo: RedisTopology): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await topo.triggerFailover();
    } catch (err) {
      if (i > 50) throw err;
      await sleep(200);
    }
  }
}
