import type { Logform } from 'winston';
import type { ActiveSpanReader } from './active-span.js';
import { contextUserId, getLogContext } from './log-context.js';
import type { SecretRedactor } from './secret-redactor.js';

/** The structured record of a line, kept on the winston `info` for the pretty renderer and the Loki transport. */
export const LINE_RECORD = Symbol.for('@bastion/loki-logger:record');
/** Metadata handed over by `LokiLogger` without copying it into the `info` object. */
export const LINE_META = Symbol.for('@bastion/loki-logger:meta');
/** winston's (triple-beam's) key of the finished line. */
export const MESSAGE = Symbol.for('message');

/** One log line before serialisation. */
export interface LineRecord {
  timestamp: string;
  level: string;
  message: string;
  context?: string;
  service: string;
  env: string;
  requestId?: string;
  userId?: string;
  traceId?: string;
  /** The active OpenTelemetry span's trace id (OpenTelemetry's log field name). */
  trace_id?: string;
  /** The active OpenTelemetry span's id. */
  span_id?: string;
  [key: string]: unknown;
}

/** An `Error` as written in a line: serialised once, `stack` a string. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  [key: string]: unknown;
}

const MAX_DEPTH = 8;
const SKIP_INFO_KEYS = new Set(['level', 'message', 'context', 'timestamp']);

/**
 * Builds the JSON line of every entry, once: context fields from AsyncLocalStorage, metadata with
 * sensitive keys masked, errors serialised, then every secret value masked in the finished line.
 * The same string goes to stdout and to Loki.
 */
export class LogLineFormat implements Logform.Format {
  // toISOString() costs more than the rest of the line; lines of the same millisecond share it.
  private isoMs = -1;
  private iso = '';

  constructor(
    private readonly service: string,
    private readonly env: string,
    private readonly redactor: SecretRedactor,
    private readonly activeSpan?: ActiveSpanReader,
  ) {}

  transform(info: Logform.TransformableInfo): Logform.TransformableInfo {
    let rec: LineRecord;
    let line: string;
    try {
      rec = this.record(info);
      line = JSON.stringify(rec);
    } catch (err) {
      // A throwing getter or toJSON must never turn a log call into an exception: write what is safe.
      rec = {
        timestamp: new Date().toISOString(),
        level: info.level,
        message: this.redactor.redactText(String(info.message)),
        service: this.service,
        env: this.env,
        requestId: getLogContext()?.requestId,
        logError: `metadata could not be serialised: ${err instanceof Error ? err.message : String(err)}`,
      };
      line = JSON.stringify(rec);
    }
    (info as Record<symbol, unknown>)[MESSAGE] = this.redactor.redactJsonLine(line);
    (info as Record<symbol, unknown>)[LINE_RECORD] = rec;
    return info;
  }

  private record(info: Logform.TransformableInfo): LineRecord {
    const store = getLogContext();
    const raw = info.message;
    const now = Date.now();
    if (now !== this.isoMs) {
      this.isoMs = now;
      this.iso = new Date(now).toISOString();
    }
    const rec: LineRecord = {
      timestamp: this.iso,
      level: info.level,
      message: this.redactor.redactText(typeof raw === 'string' ? raw : raw === undefined ? '' : String(raw)),
      context: typeof info.context === 'string' ? info.context : undefined,
      service: this.service,
      env: this.env,
      requestId: store?.requestId,
      userId: store === undefined ? undefined : contextUserId(store),
      traceId: store?.traceId,
      trace_id: undefined,
      span_id: undefined,
    };
    const span = this.activeSpan?.();
    if (span !== undefined) {
      rec.trace_id = span.traceId;
      rec.span_id = span.spanId;
    }
    // Fields of `assignLogContext()`: after the fixed ones (which they never name), before the call's.
    const assigned = store?.fields;
    if (assigned !== undefined) {
      for (const [key, value] of assigned) rec[key] = this.sanitize(key, value, 0, undefined);
    }
    const meta = (info as Record<symbol, unknown>)[LINE_META] as Record<string, unknown> | undefined;
    if (meta !== undefined) {
      this.merge(rec, meta, assigned);
    } else {
      // Plain winston calls (`winston.info('x', { a: 1 })`) put the metadata on `info` itself.
      for (const key of Object.keys(info)) {
        if (SKIP_INFO_KEYS.has(key)) continue;
        if (rec[key] === undefined || assigned?.has(key) === true)
          rec[key] = this.sanitize(key, info[key], 0, undefined);
      }
      if (info instanceof Error && rec.error === undefined)
        rec.error = this.serializeError(info, 0, undefined);
    }
    return rec;
  }

  private merge(
    rec: LineRecord,
    meta: Record<string, unknown>,
    assigned: Map<string, unknown> | undefined,
  ): void {
    for (const key of Object.keys(meta)) {
      // The call's metadata never overwrites the line's own fields (timestamp, level, requestId...),
      // but does win over an assigned field: it is the more specific of the two.
      if (rec[key] !== undefined && assigned?.has(key) !== true) continue;
      rec[key] = this.sanitize(key, meta[key], 0, undefined);
    }
  }

  private sanitize(key: string, value: unknown, depth: number, seen: Set<object> | undefined): unknown {
    if (this.redactor.isSensitiveKey(key)) return value === undefined ? undefined : this.redactor.censor;
    switch (typeof value) {
      case 'string':
        return this.redactor.redactText(value);
      case 'bigint':
        return value.toString();
      case 'object':
        break;
      case 'function':
      case 'symbol':
        return undefined;
      default:
        return value;
    }
    if (value === null) return null;
    if (value instanceof Error) return this.serializeError(value, depth, seen);
    if (value instanceof Date || Buffer.isBuffer(value)) return value;
    if (depth >= MAX_DEPTH) return '[Object]';
    const set = seen ?? new Set<object>();
    if (set.has(value)) return '[Circular]';
    set.add(value);
    let out: unknown;
    // Copied only from the first value that changes: most metadata needs no change at all.
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        const clean = this.sanitize('', v, depth + 1, set);
        if (copy === undefined) {
          if (clean === v) continue;
          copy = value.slice(0, i);
        }
        copy.push(clean);
      }
      out = copy ?? value;
    } else if (value instanceof Map) {
      out = this.sanitizeEntries(value.entries(), depth, set);
    } else {
      const obj = value as Record<string, unknown>;
      if (typeof obj.toJSON === 'function') {
        out = this.sanitize(key, obj.toJSON(), depth, set);
      } else {
        const keys = Object.keys(obj);
        let copy: Record<string, unknown> | undefined;
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i]!;
          const v = obj[k];
          const clean = this.sanitize(k, v, depth + 1, set);
          if (copy === undefined) {
            if (clean === v) continue;
            copy = {};
            for (let j = 0; j < i; j++) copy[keys[j]!] = obj[keys[j]!];
          }
          copy[k] = clean;
        }
        out = copy ?? obj;
      }
    }
    set.delete(value);
    return out;
  }

  private sanitizeEntries(
    entries: Iterable<[unknown, unknown]>,
    depth: number,
    seen: Set<object>,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const key = String(k);
      out[key] = this.sanitize(key, v, depth + 1, seen);
    }
    return out;
  }

  serializeError(err: Error, depth: number, seen: Set<object> | undefined): SerializedError {
    const out: SerializedError = {
      name: err.name,
      message: this.redactor.redactText(String(err.message)),
      stack: typeof err.stack === 'string' ? this.redactor.redactText(err.stack) : undefined,
    };
    for (const key of Object.keys(err)) {
      if (key === 'name' || key === 'message' || key === 'stack') continue;
      out[key] = this.sanitize(key, (err as unknown as Record<string, unknown>)[key], depth + 1, seen);
    }
    const cause = (err as { cause?: unknown }).cause;
    if (cause !== undefined && out.cause === undefined && depth < MAX_DEPTH) {
      out.cause = this.sanitize('cause', cause, depth + 1, seen);
    }
    return out;
  }
}
