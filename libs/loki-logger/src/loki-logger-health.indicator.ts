import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { LokiLogger } from './loki-logger.service.js';

/** Deadline of one health check: well under the 1 s default `timeoutSeconds` of a Kubernetes probe. */
const DEFAULT_HEALTH_TIMEOUT_MS = 500;

/** Options of `LokiHealthIndicator.isHealthy()`. */
export interface LokiHealthOptions {
  /**
   * Report `down` (HTTP 503) when Loki is unreachable. Default: `false`: the app keeps serving
   * while logs cannot be shipped (stdout still has them), so the state is `degraded` (HTTP 200).
   * Set `true` only on a dedicated check that must not pass without Loki.
   */
  readonly failWhenDown?: boolean;
  /** Failed pushes in a row that mean "Loki is down". Default: `3` (a single failure is retried). */
  readonly failureThreshold?: number;
  /** Also GET Loki's `/ready`. Default: `false` (gateways often do not expose it). */
  readonly probeReady?: boolean;
  /**
   * Answer within this many ms, whatever Loki does (it bounds the `/ready` probe; the counters are
   * read at once). Default: `500`, under the 1 s default timeout of a Kubernetes probe, with room
   * for the other indicators.
   */
  readonly timeoutMs?: number;
  /** Buffer fill (0..1) from which the state is `degraded`. Default: `0.5`. */
  readonly degradedFill?: number;
  /** Drops within this window (ms) make the state `degraded`. Default: `60000`. */
  readonly recentDropMs?: number;
}

/**
 * Terminus indicator of the Loki shipper: `up` when pushes succeed, `degraded` when the buffer is
 * filling, lines were dropped recently or pushes fail, `down` only with `failWhenDown`.
 */
@Injectable()
export class LokiHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly logger: LokiLogger,
  ) {}

  async isHealthy<const Key extends string = 'loki'>(
    key: Key = 'loki' as Key,
    options: LokiHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const session = this.health.check(key);
    const loki = this.logger.loki;
    if (loki === undefined) return session.up({ shipping: 'off' });
    const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
    let ready: { ready: boolean; detail: string } | undefined;
    if (options.probeReady) ready = await loki.ready(timeoutMs);
    const s = loki.stats();
    const now = Date.now();
    const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
    const data = {
      bufferedEntries: s.bufferedEntries,
      bufferFill: Math.round(s.bufferFill * 100) / 100,
      sent: s.sent,
      dropped,
      consecutiveFailures: s.consecutiveFailures,
      lastSuccessAt: iso(s.lastSuccessAt),
      ready: ready?.ready,
    };
    // Only a state that is not `up` carries the failure: after a recovery, `up` must not look failing.
    const trouble = { ...data, lastError: s.lastError, lastFailureAt: iso(s.lastFailureAt) };
    const failing =
      s.consecutiveFailures >= (options.failureThreshold ?? 3) || (ready !== undefined && !ready.ready);
    if (failing) {
      const message =
        ready !== undefined && !ready.ready ? `Loki not ready: ${ready.detail}` : 'Loki unreachable';
      return options.failWhenDown
        ? session.down({ message, ...trouble })
        : session.degraded({ message, ...trouble });
    }
    const recentDrop = s.lastDropAt !== undefined && now - s.lastDropAt < (options.recentDropMs ?? 60_000);
    if (s.bufferFill >= (options.degradedFill ?? 0.5) || recentDrop || s.consecutiveFailures > 0) {
      const message = recentDrop
        ? 'log lines dropped recently'
        : s.consecutiveFailures > 0
          ? 'Loki push failing'
          : 'buffer filling';
      return session.degraded({ message, ...trouble });
    }
    return session.up(data);
  }
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
