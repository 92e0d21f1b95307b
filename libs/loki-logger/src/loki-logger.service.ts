import {
  Inject,
  Injectable,
  Optional,
  type LoggerService,
  type LogLevel,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { inspect } from 'node:util';
import { createLogger, type Logger } from 'winston';
import { activeSpanReader } from './active-span.js';
import { LINE_META, LogLineFormat } from './log-line.format.js';
import { LOKI_LOG_LEVEL_NAMES, LOKI_LOG_LEVELS, type LokiLogLevel } from './log-levels.js';
import type { LokiLoggerModuleOptions } from './loki-logger-options.interface.js';
import { resolveLokiLoggerOptions, type ResolvedLokiLoggerOptions } from './loki-logger-options.resolver.js';
import { LOKI_LOGGER_RESOLVED_OPTIONS } from './loki-logger.constants.js';
import type { LokiShipperStats } from './loki-shipper-stats.js';
import { LokiTransport } from './loki.transport.js';
import { isNestAppLogger, nestBootLinesUnbuffered, nestConsolePrinted } from './nest-boot-logs.js';
import { PrettyLineRenderer } from './pretty-line.js';
import { SECRET_REDACTION_SOURCE, type SecretRedactionSource } from './secret-redaction-source.js';
import { SecretRedactor } from './secret-redactor.js';
import { lineDestination, type StdoutStats } from './stdout-destination.js';
import { StdoutTransport } from './stdout.transport.js';

const NEST_TO_WINSTON: Record<LogLevel, LokiLogLevel> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'verbose',
};

/** How long `flush()` and shutdown wait, at most, for stdout to take the buffered lines. */
const STDOUT_FLUSH_TIMEOUT_MS = 5000;

const noop = (): void => {};

/** A transport without its own level or `silent`: it writes every line the logger passes. */
const plain = (t: { level?: string; silent?: boolean }): boolean =>
  t.level === undefined && t.silent !== true;

// Nest's own test for "this string is a stack trace" (ConsoleLogger.isStackFormat).
const STACK_FORMAT = /^(.)+\n\s+at .+:\d+:\d+/;

/**
 * The application logger: a Nest `LoggerService` over winston. Use it as the app logger
 * (`app.useLogger(app.get(LokiLogger))`) so Nest's `new Logger(Context)` writes through it, or
 * inject it. Lines are JSON on stdout and, when configured, shipped to Loki.
 */
@Injectable()
export class LokiLogger implements LoggerService, OnModuleInit, OnApplicationShutdown {
  /** The underlying winston logger (also injectable as nest-winston's `WINSTON_MODULE_PROVIDER`). */
  readonly winston: Logger;
  /** The Loki shipper, when `loki.url` is configured. */
  readonly loki: LokiTransport | undefined;
  private readonly redactor: SecretRedactor;
  private readonly service: string;
  private readonly env: string;
  private readonly unsubscribe: (() => void) | undefined;
  private readonly format: LogLineFormat;
  private readonly stdout: StdoutTransport;
  private maxLevel: number;
  /** No registry was injected and the app did not opt out: warn once at init. */
  private warnNoRedactionSource: boolean;
  /** Nest's boot lines went to its text console when this logger was built: hint once when attached. */
  private bootHintPending: boolean;

  /**
   * @param options the module options, checked here when given by hand (`new LokiLogger({...})`):
   *   invalid ones throw one `LokiLoggerConfigError` listing every problem
   * @param redactionSource the secrets registry (`SECRET_REDACTION_SOURCE`: `@bastion/secrets`'
   *   `SecretsService`, or any object with `values()` and `subscribe()`)
   */
  constructor(
    @Inject(LOKI_LOGGER_RESOLVED_OPTIONS) options: LokiLoggerModuleOptions | ResolvedLokiLoggerOptions,
    @Optional() @Inject(SECRET_REDACTION_SOURCE) redactionSource?: SecretRedactionSource,
  ) {
    const resolved = resolveLokiLoggerOptions(options);
    const { level, env, service } = resolved;
    this.service = service;
    this.env = env;
    // Static credentials are masked too (function-valued ones come from the secrets registry).
    const credentials = [resolved.loki?.password, resolved.loki?.bearerToken].filter(
      (v): v is string => typeof v === 'string' && v.length > 0,
    );
    this.redactor = new SecretRedactor(resolved.redactKeys, resolved.redactCensor, resolved.minRedactLength, [
      ...resolved.redactValues,
      ...credentials,
    ]);
    if (redactionSource) {
      const refresh = (): void => this.redactor.setValues(redactionSource.values());
      refresh();
      // Rebuild the matcher only when the registry changes, never per line.
      this.unsubscribe = redactionSource.subscribe(refresh);
    }
    const pretty =
      resolved.format === 'pretty' ? new PrettyLineRenderer(this.redactor, resolved.colors) : undefined;
    this.stdout = new StdoutTransport(lineDestination(resolved.stream, resolved.stdoutBufferBytes), pretty);
    this.loki = resolved.loki ? new LokiTransport(resolved.loki, { service, env }) : undefined;
    this.format = new LogLineFormat(service, env, this.redactor, activeSpanReader());
    this.winston = createLogger({
      levels: { ...LOKI_LOG_LEVELS },
      level,
      format: this.format,
      transports: this.loki ? [this.stdout, this.loki] : [this.stdout],
      exitOnError: false,
    });
    this.maxLevel = LOKI_LOG_LEVELS[level];
    this.warnNoRedactionSource = !redactionSource && resolved.warnIfNoRedactionSource;
    // Read now, while Nest builds the app: whether `bufferLogs` holds its boot lines.
    this.bootHintPending = nestBootLinesUnbuffered();
  }

  /** What `JSON.stringify()` shows: the identity and the shipper's counters, never a credential. */
  toJSON(): { service: string; env: string; level: string; loki: LokiShipperStats | undefined } {
    return { service: this.service, env: this.env, level: this.winston.level, loki: this.stats() };
  }

  /** What `util.inspect()` (and `console.log`) shows: the same as `toJSON()`. */
  [inspect.custom](): string {
    return `LokiLogger ${inspect(this.toJSON(), { breakLength: Infinity, depth: 4 })}`;
  }

  /** Called by Nest only (not for `new LokiLogger()`): the module could not see a secrets registry. */
  onModuleInit(): void {
    if (!this.warnNoRedactionSource) return;
    this.warnNoRedactionSource = false;
    this.write(
      'warn',
      'No SecretRedactionSource is visible to LokiLoggerModule, so secret values of @bastion/secrets are ' +
        'NOT masked in log lines (redactKeys and redactValues still apply). To mask them, register ' +
        'SecretsModule globally: SecretsModule.forRoot({ secrets, isGlobal: true }). ' +
        'An app without secrets can silence this with the option warnIfNoRedactionSource: false.',
      ['LokiLogger'],
    );
  }

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('info', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('verbose', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams);
  }

  /** Nest calls this with the `logger` levels of `NestFactory.create()`: the most verbose one wins. */
  setLogLevels(levels: LogLevel[]): void {
    let max = -1;
    for (const l of levels) max = Math.max(max, LOKI_LOG_LEVELS[NEST_TO_WINSTON[l]] ?? -1);
    const name = LOKI_LOG_LEVEL_NAMES[max];
    this.maxLevel = max;
    this.winston.silent = name === undefined;
    if (name) this.winston.level = name;
  }

  /** Whether lines of this level are written. */
  isLevelEnabled(level: LokiLogLevel): boolean {
    return LOKI_LOG_LEVELS[level] <= this.maxLevel;
  }

  /** Counters of the Loki shipper (`undefined` when shipping is off). */
  stats(): LokiShipperStats | undefined {
    return this.loki?.stats();
  }

  /** Counters of the stdout destination: bytes waiting for stdout, lines dropped while it was stuck. */
  stdoutStats(): StdoutStats {
    return this.stdout.destination.stats();
  }

  /** @deprecated Use `stats()` (the same counters). */
  lokiStats(): LokiShipperStats | undefined {
    return this.stats();
  }

  /**
   * Writes out what stdout's buffer and the Loki shipper hold; `true` when everything left in time.
   * Default timeout: the shipper's `shutdownTimeoutMs` for Loki, 5000 ms for stdout.
   */
  async flush(timeoutMs?: number): Promise<boolean> {
    const [stdout, loki] = await Promise.all([
      this.stdout.destination.flush(timeoutMs ?? STDOUT_FLUSH_TIMEOUT_MS),
      this.loki ? this.loki.flush(timeoutMs) : true,
    ]);
    return stdout && loki;
  }

  async onApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all([this.loki?.shutdown(), this.stdout.destination.flush(STDOUT_FLUSH_TIMEOUT_MS)]);
  }

  /**
   * Nest's calling convention: `(message, ...params, context?)`; `error(message, stack?, context?)`.
   * Objects among the params are the call's metadata; an `Error` (as message or param) becomes `error`.
   */
  private write(level: LokiLogLevel, message: unknown, params: unknown[]): void {
    if (this.bootHintPending && isNestAppLogger(this)) this.bufferLogsHint();
    if (LOKI_LOG_LEVELS[level] > this.maxLevel) return;
    let end = params.length;
    let context: string | undefined;
    if (end > 0 && typeof params[end - 1] === 'string') {
      const last = params[end - 1] as string;
      // `error(message, stack)` from Nest: a lone string that looks like a stack is not a context.
      if (!(level === 'error' || level === 'fatal') || end > 1 || !STACK_FORMAT.test(last)) {
        context = last;
        end--;
      }
    }
    let meta: Record<string, unknown> | undefined;
    let text: string;
    if (typeof message === 'string') {
      text = message;
    } else if (message instanceof Error) {
      text = message.message;
      meta = { error: message };
    } else if (message !== null && typeof message === 'object') {
      const { message: inner, ...rest } = message as Record<string, unknown>;
      text = typeof inner === 'string' ? inner : '';
      meta = rest;
    } else {
      text = String(message);
    }
    // `meta` is copied before the first change: the caller's object is never mutated.
    let owned = meta !== undefined;
    for (let i = 0; i < end; i++) {
      const p = params[i];
      if (p === undefined) continue;
      const isObject = p !== null && typeof p === 'object';
      if (isObject && !(p instanceof Error) && meta === undefined) {
        meta = p as Record<string, unknown>;
        continue;
      }
      if (!owned) {
        meta = { ...meta };
        owned = true;
      }
      const m = meta!;
      if (p instanceof Error) m.error ??= p;
      else if (typeof p === 'string' && STACK_FORMAT.test(p)) m.error ??= { stack: p };
      else if (isObject) Object.assign(m, p);
      else ((m.params ??= []) as unknown[]).push(p);
    }
    const info = { level, message: text, context, [LINE_META]: meta };
    if (this.direct(level)) {
      this.format.transform(info);
      this.stdout.writeLine(info);
      this.loki?.log(info, noop);
    } else {
      this.winston.log(info);
    }
  }

  /**
   * Whether a line may skip winston's stream pipeline (a Transform piped into each transport, which
   * costs about as much as building the line): only while the winston logger is as this class made
   * it. A transport added with `logger.winston.add()`, a `data` listener, another format, `silent`
   * or a level set on a transport sends lines through winston again, so its API keeps working.
   */
  private direct(level: LokiLogLevel): boolean {
    const w = this.winston;
    if (w.silent || w.format !== this.format || LOKI_LOG_LEVELS[level] > (w.levels[w.level] ?? -1))
      return false;
    const own = this.loki ? 2 : 1;
    // Each pipe to a transport is a `data` listener: the count covers added transports and listeners.
    if (w.listenerCount('data') !== own) return false;
    const transports = w.transports;
    return (
      transports[0] === this.stdout &&
      transports[own - 1] === (this.loki ?? this.stdout) &&
      plain(this.stdout) &&
      (this.loki === undefined || plain(this.loki))
    );
  }

  /** First line after `app.useLogger(this)`: Nest's boot lines were printed as coloured text. */
  private bufferLogsHint(): void {
    this.bootHintPending = false;
    if (!nestConsolePrinted()) return;
    this.write(
      'warn',
      "Nest's boot lines above this one were printed by its default console logger (text, not JSON) " +
        'because this logger was attached afterwards. Pass { bufferLogs: true } to ' +
        'NestFactory.create(AppModule, { bufferLogs: true }): Nest then holds its boot lines and ' +
        'app.useLogger() writes them through this logger as JSON. For JSON from the very first line, ' +
        'also pass { logger: createBootstrapLogger(...) } (see the main.ts recipe in the README).',
      ['LokiLogger'],
    );
  }
}
