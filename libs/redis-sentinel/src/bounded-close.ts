import type { Redis } from 'ioredis';
import { abandonConnection } from './ioredis-internals.js';

/**
 * `QUIT` raced against `deadlineMs`, then `disconnect()` and the socket destroyed. `quit()`
 * alone never resolves on a frozen server, and `disconnect()` alone leaves a 2 s timer.
 */
export async function closeRedisBounded(redis: Redis, deadlineMs: number): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      redis.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
      }),
    ]);
    clearTimeout(timer);
  }
  // After a clean QUIT the status is already `end`; disconnecting again would arm a stray timer.
  if ((redis.status as string) !== 'end') redis.disconnect();
  abandonConnection(redis);
}
