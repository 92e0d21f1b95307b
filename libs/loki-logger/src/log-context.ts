import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What every line written inside a context carries. */
export interface LogContextState {
  /** Request (or job) id: `requestId` on every line. */
  readonly requestId: string;
  /** User id, when known: `userId` on every line. */
  userId?: string;
  /** Trace id (W3C `traceparent` or a job's id), when known: `traceId` on every line. */
  traceId?: string;
  /** Lazily reads the user id from the request (see `RequestContextOptions.userId`). */
  resolveUserId?: () => unknown;
  /** Fields added with `assignLogContext()`, in the order they were first added. */
  fields?: Map<string, unknown>;
}

/** The line's own fields: `assignLogContext()` never sets these (metadata never overwrites them either). */
export const FIXED_LINE_FIELDS: ReadonlySet<string> = new Set([
  'timestamp',
  'level',
  'message',
  'context',
  'service',
  'env',
  'requestId',
  'userId',
  'traceId',
  'trace_id',
  'span_id',
]);

/** Fields accepted by `runWithLogContext()`. */
export interface LogContextInit {
  /** Id to carry; a UUID is generated when absent. */
  requestId?: string;
  userId?: string | number;
  traceId?: string;
}

// One storage per process: the middleware, the workers' `runWithLogContext()` and the line format
// must all see the same store, whatever module instance created them.
const storage = new AsyncLocalStorage<LogContextState>();

/**
 * Runs `fn` in a log context: every line written by `fn`, and by everything it awaits or
 * schedules, carries `requestId` (and `userId`/`traceId` when given). Use it in queue workers,
 * cron jobs and message handlers, where no HTTP middleware opens a context:
 *
 * ```ts
 * await runWithLogContext({ requestId: job.id }, () => this.process(job));
 * ```
 */
export function runWithLogContext<T>(init: LogContextInit, fn: () => T): T {
  const state: LogContextState = {
    requestId: init.requestId ?? randomUUID(),
    userId: init.userId === undefined ? undefined : String(init.userId),
    traceId: init.traceId,
  };
  return storage.run(state, fn);
}

/** Opens a context from a prepared state (used by the HTTP middleware). */
export function runWithLogContextState<T>(state: LogContextState, fn: () => T): T {
  return storage.run(state, fn);
}

/** The current context, or `undefined` outside any. */
export function getLogContext(): LogContextState | undefined {
  return storage.getStore();
}

/**
 * Sets the user id of the current context, e.g. right after authentication, so that the rest of
 * the request's lines carry it. Returns `false` (and does nothing) outside a context.
 */
export function setLogContextUserId(userId: string | number | undefined): boolean {
  const state = storage.getStore();
  if (!state) return false;
  state.userId = userId === undefined ? undefined : String(userId);
  state.resolveUserId = undefined;
  return true;
}

/**
 * Adds fields to every line written later in the current context (request or job), as
 * nestjs-pino's `assign`: `assignLogContext({ orderId: 42 })` in a controller, and the service's
 * lines and the request's completion line carry `orderId`. Lines written before the call do not,
 * nor do other requests. A field set again takes the new value; `undefined` removes it. The line's
 * own fields (`timestamp`, `level`, `message`, `context`, `service`, `env`, `requestId`, `userId`,
 * `traceId`) are never set this way (use `setLogContextUserId()` for the user id). Values are
 * redacted like metadata and read when each line is written. A call's own metadata wins over an
 * assigned field of the same name. Returns `false` (and does nothing) outside a context: the same
 * code may run in a request and in a cron job.
 */
export function assignLogContext(fields: Readonly<Record<string, unknown>>): boolean {
  const state = storage.getStore();
  if (!state) return false;
  for (const key of Object.keys(fields)) {
    if (FIXED_LINE_FIELDS.has(key)) continue;
    const value = fields[key];
    if (value === undefined) state.fields?.delete(key);
    else (state.fields ??= new Map()).set(key, value);
  }
  return true;
}

/** Resolves the user id once, lazily: the request may get its user after the middleware ran. */
export function contextUserId(state: LogContextState): string | undefined {
  if (state.userId === undefined && state.resolveUserId !== undefined) {
    const found = state.resolveUserId();
    if (found !== undefined && found !== null && found !== '') {
      state.userId = typeof found === 'string' ? found : String(found);
      state.resolveUserId = undefined;
    }
  }
  return state.userId;
}
