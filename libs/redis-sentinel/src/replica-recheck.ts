import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { formatAddress } from './redis-address.js';
import type { ResolvedRedisSentinelOptions } from './redis-sentinel-options.resolver.js';
import { askHealthyReplicas } from './sentinel-query.js';

/**
 * While a replica client reads from the master (no healthy replica when it connected), asks the
 * Sentinels every `replicaRecheckIntervalMs` for a healthy replica; once one is back, closes the
 * connection gracefully so the client reconnects to it.
 */
export class ReplicaRecheck {
  #timer: NodeJS.Timeout | undefined;
  /** `#private`: the options hold the Sentinel password. */
  readonly #options: ResolvedRedisSentinelOptions;

  constructor(
    private readonly clientName: string,
    private readonly redis: Redis,
    options: ResolvedRedisSentinelOptions,
    private readonly logger: Logger,
    /** Whether the client still reads from the master. */
    private readonly servingFromMaster: () => boolean,
  ) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.recheck(), this.#options.replicaRecheckIntervalMs);
    // Never keeps the process alive on its own.
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  private async recheck(): Promise<void> {
    if (!this.servingFromMaster() || this.redis.status !== 'ready') return;
    for (const sentinel of this.#options.sentinels) {
      try {
        const replicas = await askHealthyReplicas(
          sentinel,
          this.#options,
          this.#options.sentinelCommandTimeoutMs,
        );
        if (replicas.length > 0 && this.servingFromMaster() && this.redis.status === 'ready') {
          this.logger.log({
            message: `Redis client "${this.clientName}": a healthy replica is back, leaving the master`,
            event: 'replica-available',
            client: this.clientName,
            replicas: replicas.map((r) => formatAddress(r)),
          });
          this.stop();
          // Graceful: replies already on the way still arrive before the socket closes.
          this.redis.disconnect(true);
        }
        return;
      } catch {
        // Ask the next Sentinel.
      }
    }
  }
}
