import { inspect } from 'node:util';
import type { LokiLogLevel } from './log-levels.js';
import { FIXED_LINE_FIELDS } from './log-context.js';
import type { LineRecord } from './log-line.format.js';
import type { SecretRedactor } from './secret-redactor.js';

const COLORS: Readonly<Record<LokiLogLevel, string>> = {
  fatal: '\x1b[35;1m',
  error: '\x1b[31m',
  warn: '\x1b[33m',
  info: '\x1b[32m',
  debug: '\x1b[36m',
  verbose: '\x1b[90m',
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/** Renders a record as one human line for local development (`format: 'pretty'`). */
export class PrettyLineRenderer {
  constructor(
    private readonly redactor: SecretRedactor,
    private readonly colors: boolean,
  ) {}

  render(rec: LineRecord): string {
    const c = this.colors;
    const level = rec.level.toUpperCase().padEnd(7);
    let out = `${c ? DIM : ''}${rec.timestamp.slice(11, 23)}${c ? RESET : ''} ${c ? (COLORS[rec.level as LokiLogLevel] ?? '') : ''}${level}${c ? RESET : ''}`;
    if (rec.context) out += ` ${c ? '\x1b[33m' : ''}[${rec.context}]${c ? RESET : ''}`;
    out += ` ${rec.message}`;
    const ids: string[] = [];
    if (rec.requestId) ids.push(`req=${rec.requestId}`);
    if (rec.userId) ids.push(`user=${rec.userId}`);
    const traceId = rec.trace_id ?? rec.traceId;
    if (traceId) ids.push(`trace=${traceId}`);
    if (rec.span_id) ids.push(`span=${rec.span_id}`);
    if (ids.length > 0) out += ` ${c ? DIM : ''}${ids.join(' ')}${c ? RESET : ''}`;
    const rest: Record<string, unknown> = {};
    let hasRest = false;
    let stack: string | undefined;
    for (const key of Object.keys(rec)) {
      // The line's own fields are its head; the rest follows as key=value.
      if (FIXED_LINE_FIELDS.has(key) || rec[key] === undefined) continue;
      const value = rec[key];
      if (key === 'error' && value !== null && typeof value === 'object' && 'stack' in value) {
        stack = String((value as { stack?: unknown }).stack);
        const { stack: _s, ...others } = value as Record<string, unknown>;
        if (Object.keys(others).length > 0) rest[key] = others;
        hasRest = Object.keys(others).length > 0 || hasRest;
        continue;
      }
      rest[key] = value;
      hasRest = true;
    }
    if (hasRest) out += ` ${inspect(rest, { colors: c, depth: 6, breakLength: Infinity })}`;
    if (stack !== undefined) out += `\n${stack}`;
    return this.redactor.redactPlain(out);
  }
}
