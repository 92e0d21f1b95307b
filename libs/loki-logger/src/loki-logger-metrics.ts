import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram, register, type Registry } from 'prom-client';
import {
  LOKI_LOGGER_METRICS_OPTIONS,
  type LokiLoggerMetricsOptions,
} from './loki-logger-metrics.module-definition.js';
import { LokiLogger } from './loki-logger.service.js';
import type { LokiDropCounts, LokiShipperStats } from './loki-shipper-stats.js';
import type { LokiPushOutcome } from './loki.transport.js';

const PUSH_OUTCOMES: readonly LokiPushOutcome[] = ['2xx', '429', '5xx', '4xx', 'network'];

/** Push durations: a healthy push takes milliseconds; the default timeout is 10 s. */
const PUSH_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The logger's Prometheus metrics. Lines are never counted on the way: the shipper's and stdout's
 * counters are read from `LokiLogger.stats()` / `stdoutStats()` when scraped, and pushes (once per
 * batch, not per line) through `LokiTransport.onPush()`. The shipper's metrics exist only when
 * `loki.url` is configured. Labels are fixed names (a drop reason, a push outcome), never a URL,
 * tenant or credential. Registered at module init, removed at module destroy.
 */
@Injectable()
export class LokiLoggerMetrics implements OnModuleInit, OnModuleDestroy {
  readonly #logger: LokiLogger;
  readonly #registry: Registry;
  #names: string[] = [];
  #unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(LokiLogger) logger: LokiLogger,
    @Inject(LOKI_LOGGER_METRICS_OPTIONS) options: LokiLoggerMetricsOptions,
  ) {
    this.#logger = logger;
    this.#registry = options.registry ?? register;
  }

  onModuleInit(): void {
    const logger = this.#logger;
    const registers = [this.#registry];
    const metrics: Array<Counter | Gauge | Histogram> = [
      new Counter({
        name: 'bastion_loki_stdout_dropped_lines_total',
        help: 'Lines dropped before stdout because it took nothing while stdoutBufferBytes were held (process-wide: the stdout buffer is shared).',
        registers,
        collect() {
          this.reset();
          this.inc(logger.stdoutStats().dropped);
        },
      }),
      new Gauge({
        name: 'bastion_loki_stdout_buffered_bytes',
        help: 'Bytes written but not yet taken by stdout.',
        registers,
        collect() {
          this.set(logger.stdoutStats().bufferedBytes);
        },
      }),
    ];
    const loki = logger.loki;
    if (loki !== undefined) {
      const stats = (): LokiShipperStats => loki.stats();
      const pushes = new Counter({
        name: 'bastion_loki_pushes_total',
        help: 'Pushes to Loki by outcome: 2xx, 429, 5xx, 4xx (refused: 400, 413, 401...), network (no answer: refused, reset, timeout).',
        labelNames: ['outcome'],
        registers,
      });
      const duration = new Histogram({
        name: 'bastion_loki_push_duration_seconds',
        help: 'Duration of pushes to Loki (the HTTP request, until the answer or the error), by outcome.',
        labelNames: ['outcome'],
        buckets: PUSH_DURATION_BUCKETS,
        registers,
      });
      for (const outcome of PUSH_OUTCOMES) {
        pushes.inc({ outcome }, 0);
        duration.zero({ outcome });
      }
      this.#unsubscribe = loki.onPush((outcome, seconds) => {
        pushes.inc({ outcome });
        duration.observe({ outcome }, seconds);
      });
      metrics.push(
        pushes,
        duration,
        new Counter({
          name: 'bastion_loki_lines_shipped_total',
          help: 'Lines Loki accepted (2xx).',
          registers,
          collect() {
            this.reset();
            this.inc(stats().sent);
          },
        }),
        new Counter({
          name: 'bastion_loki_lines_dropped_total',
          help: 'Lines that will never reach Loki, by reason: bufferFull, badRequest (400), tooLarge (413), rejected (other 4xx), shutdown.',
          labelNames: ['reason'],
          registers,
          collect() {
            this.reset();
            const dropped = stats().dropped;
            for (const reason of Object.keys(dropped) as Array<keyof LokiDropCounts>)
              this.inc({ reason }, dropped[reason]);
          },
        }),
        new Counter({
          name: 'bastion_loki_lines_truncated_total',
          help: 'Lines cut to loki.maxLineBytes before shipping.',
          registers,
          collect() {
            this.reset();
            this.inc(stats().truncated);
          },
        }),
        new Counter({
          name: 'bastion_loki_push_retries_total',
          help: 'Pushes retried after a 429, a 5xx, a network error or a timeout.',
          registers,
          collect() {
            this.reset();
            this.inc(stats().retries);
          },
        }),
        new Gauge({
          name: 'bastion_loki_buffered_lines',
          help: 'Lines waiting to be shipped, including the batch in flight.',
          registers,
          collect() {
            this.set(stats().bufferedEntries);
          },
        }),
        new Gauge({
          name: 'bastion_loki_buffered_bytes',
          help: 'UTF-8 bytes of the waiting lines and their structured metadata.',
          registers,
          collect() {
            this.set(stats().bufferedBytes);
          },
        }),
        new Gauge({
          name: 'bastion_loki_structured_metadata',
          help: '1 while structured metadata is sent, 0 when off or after the fallback for Loki 2.x.',
          registers,
          collect() {
            this.set(stats().structuredMetadata ? 1 : 0);
          },
        }),
      );
    }
    this.#names = metrics.map((m) => (m as unknown as { name: string }).name);
  }

  onModuleDestroy(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const name of this.#names) this.#registry.removeSingleMetric(name);
    this.#names = [];
  }
}
