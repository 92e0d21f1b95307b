import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { runWithLogContextState, type LogContextState } from './log-context.js';
import type { ResolvedLokiLoggerOptions } from './loki-logger-options.resolver.js';
import { LOKI_LOGGER_RESOLVED_OPTIONS } from './loki-logger.constants.js';
import { LokiLogger } from './loki-logger.service.js';

/** Accepted incoming ids: short, no spaces or quotes, so they can never forge or break a log line. */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
const APPLIED = Symbol.for('@bastion/loki-logger:context');

interface HttpRequest {
  method?: string;
  url?: string;
  originalUrl?: string;
  baseUrl?: string;
  route?: { path?: unknown };
  headers: Record<string, string | string[] | undefined>;
  user?: { id?: unknown; sub?: unknown };
  [APPLIED]?: boolean;
}

interface HttpResponse {
  statusCode: number;
  writableFinished?: boolean;
  setHeader(name: string, value: string): unknown;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

const defaultUserId = (req: HttpRequest): unknown => req.user?.id ?? req.user?.sub;

/**
 * Opens the log context of each HTTP request: a valid incoming `X-Request-Id`, else a new id
 * (`requestContext.genReqId`, or a UUID), echoed in the response, kept in AsyncLocalStorage for
 * every line written while serving the request (after awaits, in deep services). Logs one line
 * when the request completes.
 */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  private readonly header: string;
  private readonly genReqId: ((req: HttpRequest, res: HttpResponse) => unknown) | undefined;
  private warnedGenReqId = false;
  private readonly userId: (req: HttpRequest) => unknown;
  private readonly logRequests: boolean;
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];

  constructor(
    @Inject(LOKI_LOGGER_RESOLVED_OPTIONS) options: ResolvedLokiLoggerOptions,
    private readonly logger: LokiLogger,
  ) {
    const rc = options.requestContext;
    this.header = rc.header;
    this.genReqId = rc.genReqId;
    this.userId = rc.userId ?? defaultUserId;
    this.logRequests = rc.logRequests;
    for (const p of rc.excludeFromRequestLog) {
      if (p.endsWith('*')) this.prefixes.push(p.slice(0, -1));
      else this.exact.add(p);
    }
  }

  use(req: HttpRequest, res: HttpResponse, next: (error?: unknown) => void): void {
    // Applied twice (module imported twice, or also by hand): one context, one completion line.
    if (req[APPLIED]) return next();
    req[APPLIED] = true;
    const incoming = req.headers[this.header];
    const requestId =
      typeof incoming === 'string' && VALID_REQUEST_ID.test(incoming) ? incoming : this.newId(req, res);
    res.setHeader(this.header, requestId);
    const traceparent = req.headers.traceparent;
    const state: LogContextState = {
      requestId,
      traceId: typeof traceparent === 'string' ? traceparent.split('-')[1] : undefined,
      resolveUserId: () => this.userId(req),
    };
    if (this.logRequests) {
      const path = (req.originalUrl ?? req.url ?? '/').split('?')[0]!;
      if (!this.exact.has(path) && !this.prefixes.some((p) => path.startsWith(p))) {
        const started = performance.now();
        let done = false;
        const complete = (): void => {
          if (done) return;
          done = true;
          runWithLogContextState(state, () => this.completed(req, res, path, performance.now() - started));
        };
        res.once('finish', complete);
        res.once('close', complete);
      }
    }
    runWithLogContextState(state, next);
  }

  /** An id for a request without a valid one: `genReqId` when it gives a valid id, else a UUID. */
  private newId(req: HttpRequest, res: HttpResponse): string {
    if (this.genReqId === undefined) return randomUUID();
    let id: unknown;
    let failure: unknown;
    try {
      id = this.genReqId(req, res);
    } catch (err) {
      failure = err;
    }
    if (typeof id === 'string' && VALID_REQUEST_ID.test(id)) return id;
    // Generated ids go into every line and a response header: the incoming rule applies to them too.
    if (!this.warnedGenReqId) {
      this.warnedGenReqId = true;
      this.logger.warn(
        failure === undefined
          ? 'requestContext.genReqId returned an invalid id (1-128 characters from [A-Za-z0-9._:@/+=-]); such requests get a UUID instead (warned once)'
          : 'requestContext.genReqId threw; such requests get a UUID instead (warned once)',
        failure === undefined ? { returned: typeof id } : { error: failure },
        'RequestContext',
      );
    }
    return randomUUID();
  }

  private completed(req: HttpRequest, res: HttpResponse, path: string, ms: number): void {
    const aborted = res.writableFinished === false;
    const status = res.statusCode;
    const routePath = req.route?.path;
    const route = typeof routePath === 'string' ? `${req.baseUrl ?? ''}${routePath}` : undefined;
    const durationMs = Math.round(ms * 10) / 10;
    const meta = { method: req.method, route, path, status, durationMs, aborted: aborted || undefined };
    const text = `${req.method} ${route ?? path} ${status} ${durationMs}ms${aborted ? ' (client aborted)' : ''}`;
    if (status >= 500) this.logger.error(text, meta, 'HTTP');
    else if (status >= 400 || aborted) this.logger.warn(text, meta, 'HTTP');
    else this.logger.log(text, meta, 'HTTP');
  }
}
