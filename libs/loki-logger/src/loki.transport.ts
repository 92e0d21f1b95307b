import TransportStream from 'winston-transport';
import { EntryQueue } from './entry-queue.js';
import { backoffDelay, retryAfterDelay } from './loki-backoff.js';
import { LokiDiagnostics } from './loki-diagnostics.js';
import type { LokiEntry } from './loki-entry.js';
import { describeError, LokiHttpClient, type LokiResponse } from './loki-http-client.js';
import { labelSelector, streamLabelSets } from './loki-labels.js';
import type { LokiShippingOptions } from './loki-logger-options.interface.js';
import {
  resolveLokiShippingOptions,
  type LokiTransportIdentity,
  type ResolvedLokiShippingOptions,
} from './loki-logger-options.resolver.js';
import { LokiPushEncoder } from './loki-push-encoder.js';
import { LokiShipperCounters, type LokiDropCounts, type LokiShipperStats } from './loki-shipper-stats.js';
import { LINE_RECORD, MESSAGE, type LineRecord } from './log-line.format.js';
import { LOKI_LOG_LEVEL_NAMES } from './log-levels.js';
import { StreamClock } from './stream-clock.js';
import { StructuredMetadataFallback } from './structured-metadata-fallback.js';

export type { LokiTransportIdentity } from './loki-logger-options.resolver.js';

/** What to do after a push: done, dropped, re-send at once (metadata fallback), retry later, nothing to send. */
type Outcome = 'ok' | 'drop' | 'resend' | 'retry' | 'empty';

/**
 * How one push ended: Loki's answer by class (`4xx` is any other answer: Loki refused the batch), or
 * `network` when none came (connection refused or reset, timeout, aborted at shutdown).
 */
export type LokiPushOutcome = '2xx' | '429' | '5xx' | '4xx' | 'network';

/** Told of every push when it ends: its outcome and how long the request took (seconds). */
export type LokiPushListener = (outcome: LokiPushOutcome, seconds: number) => void;

/** The outcome class of an answer, as `settle()` treats it. */
function answerOutcome(status: number): LokiPushOutcome {
  if (status >= 200 && status < 300) return '2xx';
  if (status === 429) return '429';
  return status >= 500 ? '5xx' : '4xx';
}

/** With `levelLabel`, the stream of each level (its index in `LOKI_LOG_LEVEL_NAMES`). */
const LEVEL_STREAM: ReadonlyMap<string, number> = new Map(LOKI_LOG_LEVEL_NAMES.map((level, i) => [level, i]));
const INFO_STREAM = LEVEL_STREAM.get('info')!;

interface FlushWaiter {
  resolve: (drained: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * The Loki shipper: a winston transport that never blocks the caller. `log()` only appends to a
 * bounded queue; one push at a time goes out in the background, batched by count, bytes and time,
 * retried on 429/5xx/network errors with backoff, dropped (and counted) on 400/413. This class holds
 * the queue and the scheduling; the HTTP client, the encoder, the counters and the metadata fallback
 * are their own units.
 */
export class LokiTransport extends TransportStream {
  private readonly queue = new EntryQueue();
  private readonly encoder: LokiPushEncoder;
  private readonly clocks: StreamClock[];
  /** With `levelLabel`, one stream per level (`LEVEL_STREAM`); else one stream. */
  private readonly streamPerLevel: boolean;
  // #private: the client holds the URL (which may carry user:password) and the credentials.
  readonly #client: LokiHttpClient;
  readonly #options: ResolvedLokiShippingOptions;
  private readonly metadata: StructuredMetadataFallback;
  private readonly counters = new LokiShipperCounters();
  private readonly diagnostics: LokiDiagnostics;
  readonly shutdownTimeoutMs: number;

  private sending = false;
  private stopped = false;
  private attempt = 0;
  private intervalTimer: NodeJS.Timeout | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  /** End sequence of the batch being pushed (-1: none), and how many of its entries overflow dropped meanwhile. */
  private inFlightEnd = -1;
  private inFlightDropped = 0;
  private readonly waiters = new Set<FlushWaiter>();
  private readonly pushListeners = new Set<LokiPushListener>();
  private warnedMetadata = false;

  /**
   * @param options the `loki` options (checked here: invalid ones throw one `LokiLoggerConfigError`)
   * @param identity `service_name` and `env` labels
   */
  constructor(options: LokiShippingOptions, identity: LokiTransportIdentity) {
    super();
    const resolved = resolveLokiShippingOptions(options, identity);
    this.#options = resolved;
    const sets = streamLabelSets(resolved.labels, resolved.levelLabel);
    this.streamPerLevel = resolved.levelLabel;
    this.encoder = new LokiPushEncoder(
      sets.map((s) => JSON.stringify(s)),
      sets.map(labelSelector),
      resolved.encoding,
      resolved.gzip,
    );
    this.clocks = sets.map(() => new StreamClock());
    this.diagnostics = new LokiDiagnostics(resolved.diagnostics);
    this.#client = new LokiHttpClient(resolved, this.diagnostics);
    this.metadata = new StructuredMetadataFallback(resolved.structuredMetadata);
    this.shutdownTimeoutMs = resolved.shutdownTimeoutMs;
  }

  // ---------------------------------------------------------------- hot path

  override log(info: Record<symbol, unknown>, next: () => void): void {
    this.enqueue(info[MESSAGE] as string, info[LINE_RECORD] as LineRecord | undefined);
    next();
  }

  /** Appends one finished line; never waits. */
  enqueue(rawLine: string, rec: LineRecord | undefined): void {
    if (this.stopped) {
      this.counters.drop('shutdown', 1);
      return;
    }
    const [line, lineBytes] = this.truncate(rawLine);
    const stream =
      !this.streamPerLevel || rec === undefined ? 0 : (LEVEL_STREAM.get(rec.level) ?? INFO_STREAM);
    const [ms, sub] = this.clocks[stream]!.next(Date.now());
    let metadata: Array<readonly [string, string]> | undefined;
    // UTF-8 bytes, as Loki counts them against its line, push and rate limits.
    let size = lineBytes;
    if (this.metadata.enabled && rec !== undefined) {
      if (rec.requestId !== undefined) (metadata ??= []).push(['request_id', rec.requestId]);
      if (rec.userId !== undefined) (metadata ??= []).push(['user_id', rec.userId]);
      // The active span's trace wins over the `traceparent` one: it is the trace the line belongs to.
      const traceId = rec.trace_id ?? rec.traceId;
      if (traceId !== undefined) (metadata ??= []).push(['trace_id', traceId]);
      if (rec.span_id !== undefined) (metadata ??= []).push(['span_id', rec.span_id]);
      if (metadata !== undefined) {
        // The keys are this file's ASCII names: their length is their size.
        for (const [k, v] of metadata) size += k.length + Buffer.byteLength(v);
      }
    }
    const entry: LokiEntry = { ms, sub, line, metadata, stream, size };
    this.queue.push(entry);
    const { maxBufferEntries, maxBufferBytes } = this.#options;
    if (this.queue.length > maxBufferEntries || this.queue.bytes > maxBufferBytes) this.overflow();
    this.pump();
  }

  /** The line within `maxLineBytes` (cut with a marker) and its size in UTF-8 bytes. */
  private truncate(line: string): [string, number] {
    const max = this.#options.maxLineBytes;
    const bytes = Buffer.byteLength(line);
    if (bytes <= max) return [line, bytes];
    this.counters.truncated++;
    const marker = `…[truncated ${bytes} bytes to ${max}]`;
    const keep = max - Buffer.byteLength(marker);
    // Cut on a byte budget, then drop a possibly split last character.
    const cut = Buffer.from(line, 'utf8')
      .subarray(0, keep)
      .toString('utf8')
      .replace(/\uFFFD$/, '');
    const truncated = cut + marker;
    return [truncated, Buffer.byteLength(truncated)];
  }

  private overflow(): void {
    const { maxBufferEntries, maxBufferBytes } = this.#options;
    let n = 0;
    while (this.queue.length > maxBufferEntries || this.queue.bytes > maxBufferBytes) {
      // An entry of the batch in flight leaves the buffer, but its fate is Loki's answer (see settle).
      if (this.queue.firstSeq < this.inFlightEnd) this.inFlightDropped++;
      this.queue.dropOldest();
      n++;
    }
    this.counters.drop('bufferFull', n);
    this.diagnostics.dropped(
      'bufferFull',
      n,
      'the buffer is full (Loki unreachable or too slow); the oldest lines were dropped',
    );
  }

  // ---------------------------------------------------------------- scheduling

  private pump(): void {
    if (this.sending || this.backoffTimer !== undefined || this.stopped || this.queue.length === 0) return;
    if (
      this.waiters.size > 0 ||
      this.queue.length >= this.#options.batchMaxEntries ||
      this.queue.bytes >= this.#options.batchMaxBytes
    ) {
      this.clearInterval();
      void this.run();
    } else if (this.intervalTimer === undefined) {
      this.intervalTimer = setTimeout(() => {
        this.intervalTimer = undefined;
        if (!this.sending && this.backoffTimer === undefined && !this.stopped && this.queue.length > 0)
          void this.run();
      }, this.#options.batchIntervalMs);
      this.intervalTimer.unref();
    }
  }

  private async run(): Promise<void> {
    this.sending = true;
    let outcome: Outcome;
    let retryAfterMs: number | undefined;
    try {
      [outcome, retryAfterMs] = await this.pushBatch();
    } catch (err) {
      // Encoding failures are bugs, not outages: report and drop nothing silently.
      this.counters.failed(`push failed: ${describeError(err)}`);
      outcome = 'retry';
    }
    this.sending = false;
    if (this.stopped) return this.settleWaiters();
    if (outcome === 'retry') {
      this.attempt++;
      this.counters.retries++;
      let delay =
        retryAfterMs ?? backoffDelay(this.attempt, this.#options.minBackoffMs, this.#options.maxBackoffMs);
      // A pending flush (shutdown) should not sit out a long backoff.
      if (this.waiters.size > 0 && retryAfterMs === undefined) delay = Math.min(delay, 1000);
      this.backoffTimer = setTimeout(() => {
        this.backoffTimer = undefined;
        if (!this.stopped && !this.sending && this.queue.length > 0) void this.run();
        else this.settleWaiters();
      }, delay);
      this.backoffTimer.unref();
      return;
    }
    if (outcome !== 'resend') this.attempt = 0;
    this.settleWaiters();
    if (this.queue.length === 0) return;
    if (outcome === 'resend') {
      void this.run();
      return;
    }
    this.pump();
  }

  private async pushBatch(): Promise<[Outcome, number?]> {
    const { entries, endSeq } = this.queue.peek(this.#options.batchMaxEntries, this.#options.batchMaxBytes);
    if (entries.length === 0) return ['empty'];
    // From here the batch's entries may be dropped by overflow (during encoding or the request).
    this.inFlightEnd = endSeq;
    this.inFlightDropped = 0;
    const withMetadata = this.metadata.enabled;
    const hasMetadata = withMetadata && entries.some((e) => e.metadata !== undefined);
    const { body, headers } = await this.encoder.body(entries, withMetadata);
    if (this.stopped) {
      this.inFlightEnd = -1;
      return ['retry'];
    }
    // Timed only while someone listens (the metrics module): nothing is measured otherwise.
    const start = this.pushListeners.size > 0 ? performance.now() : -1;
    let res: LokiResponse;
    try {
      res = await this.#client.push(body, headers, this.#options.timeoutMs);
    } catch (err) {
      if (start >= 0) this.pushed('network', start);
      this.counters.failed(describeError(err));
      return ['retry'];
    } finally {
      this.inFlightEnd = -1;
    }
    if (start >= 0) this.pushed(answerOutcome(res.status), start);
    return this.settle(res, endSeq, hasMetadata);
  }

  /** Tells the push listeners; a listener that throws never changes the batch's fate. */
  private pushed(outcome: LokiPushOutcome, start: number): void {
    const seconds = (performance.now() - start) / 1000;
    for (const listener of this.pushListeners) {
      try {
        listener(outcome, seconds);
      } catch {
        // Metrics are best effort: delivery goes on.
      }
    }
  }

  /** Applies Loki's answer to the batch that ends before `endSeq`. */
  private settle(res: LokiResponse, endSeq: number, hasMetadata: boolean): [Outcome, number?] {
    // Entries of this batch dropped by overflow while it was in flight were counted `bufferFull`;
    // if Loki took the batch they were delivered, and if it refused it they share its reason.
    const overlap = this.inFlightDropped;
    this.inFlightDropped = 0;
    if (res.status >= 200 && res.status < 300) {
      this.counters.uncountOverflow(overlap);
      this.metadata.onAccepted(hasMetadata);
      this.counters.accepted(overlap + this.queue.removeBefore(endSeq));
      return ['ok'];
    }
    const detail = `Loki answered ${res.status}: ${res.body.slice(0, 300).trim()}`;
    if (res.status === 429 || res.status >= 500) {
      this.counters.failed(detail);
      return ['retry', retryAfterDelay(res.retryAfterMs)];
    }
    this.counters.refused(detail);
    if (this.metadata.fallsBackOn(res.status, res.body, hasMetadata)) {
      if (!this.warnedMetadata) {
        this.warnedMetadata = true;
        this.diagnostics.write(
          `Loki does not accept structured metadata (${detail.slice(0, 200)}); ` +
            `request/user/trace ids stay in the JSON line only. Set loki.structuredMetadata: 'never' to silence this.`,
        );
      }
      return ['resend'];
    }
    const reason: keyof LokiDropCounts =
      res.status === 400 ? 'badRequest' : res.status === 413 ? 'tooLarge' : 'rejected';
    const n = this.queue.removeBefore(endSeq) + overlap;
    this.counters.uncountOverflow(overlap);
    this.counters.drop(reason, n);
    this.diagnostics.dropped(reason, n, detail);
    return ['drop'];
  }

  // ---------------------------------------------------------------- flush / shutdown

  /**
   * Sends everything buffered. Resolves `true` once the buffer is empty (sent or dropped), `false`
   * when `timeoutMs` passes first. Never rejects.
   */
  flush(timeoutMs: number = this.shutdownTimeoutMs): Promise<boolean> {
    if (this.queue.length === 0 && !this.sending) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter: FlushWaiter = {
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(false);
        }, timeoutMs),
      };
      waiter.timer.unref();
      this.waiters.add(waiter);
      if (this.backoffTimer !== undefined) {
        // Try now instead of waiting out the backoff: the caller has a deadline.
        clearTimeout(this.backoffTimer);
        this.backoffTimer = undefined;
      }
      this.pump();
    });
  }

  /**
   * Flushes with a deadline, then stops: aborts a pending push, counts what is left as dropped
   * (`shutdown`), closes the sockets. Later lines still reach stdout, not Loki.
   */
  async shutdown(timeoutMs: number = this.shutdownTimeoutMs): Promise<void> {
    if (this.stopped) return;
    const drained = await this.flush(timeoutMs);
    this.stopped = true;
    this.clearInterval();
    if (this.backoffTimer !== undefined) clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.#client.abort();
    const left = this.queue.removeBefore(this.queue.endSeq);
    if (left > 0) {
      this.counters.drop('shutdown', left);
      this.diagnostics.write(
        `shutdown: ${left} lines not delivered to Loki within ${timeoutMs} ms${drained ? '' : ' (flush deadline passed)'}`,
      );
    }
    // Drops reported only as "first of a minute" get their totals before the process goes.
    if (this.diagnostics.hasSuppressedDrops()) {
      this.diagnostics.write(
        `lines dropped in total: ${this.counters.dropTotals()}; sent: ${this.counters.sent}`,
      );
    }
    this.settleWaiters();
    this.#client.destroy();
  }

  /** winston's `logger.close()` hook. */
  override close(): void {
    void this.shutdown();
  }

  /** GET `/ready` of Loki (for the health indicator), within `timeoutMs`. */
  ready(timeoutMs: number): Promise<{ ready: boolean; detail: string }> {
    return this.#client.ready(timeoutMs);
  }

  stats(): LokiShipperStats {
    const { maxBufferEntries, maxBufferBytes } = this.#options;
    return this.counters.snapshot(
      {
        entries: this.queue.length,
        bytes: this.queue.bytes,
        fill: Math.max(this.queue.length / maxBufferEntries, this.queue.bytes / maxBufferBytes),
      },
      this.metadata.enabled,
    );
  }

  /**
   * Calls `listener` when each push ends (once per push, not per line), with its outcome and the
   * request's duration; pushes are timed only while a listener is registered. Used by
   * `@bastion/loki-logger/metrics`. Returns the function that removes the listener.
   */
  onPush(listener: LokiPushListener): () => void {
    this.pushListeners.add(listener);
    return () => {
      this.pushListeners.delete(listener);
    };
  }

  /** What `JSON.stringify()` shows: the counters, never the URL or a credential. */
  toJSON(): { loki: LokiShipperStats } {
    return { loki: this.stats() };
  }

  private settleWaiters(): void {
    if (this.waiters.size === 0) return;
    if (this.queue.length > 0 && !this.stopped) return;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(this.queue.length === 0);
    }
    this.waiters.clear();
  }

  private clearInterval(): void {
    if (this.intervalTimer !== undefined) clearTimeout(this.intervalTimer);
    this.intervalTimer = undefined;
  }
}
