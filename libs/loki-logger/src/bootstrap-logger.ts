import { Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import { RuntimeException } from '@nestjs/core/errors/exceptions/runtime.exception.js';
import type { Writable } from 'node:stream';
import { isLokiLogLevel } from './log-levels.js';
import type { LokiLoggerModuleOptions } from './loki-logger-options.interface.js';
import { LokiLogger } from './loki-logger.service.js';

/**
 * Names of the typed boot errors of the `@bastion` libs. Their message says what is wrong and what
 * to do, so they are written without a stack (which would only point into Nest's injector).
 */
export const DEFAULT_EXPECTED_BOOT_ERRORS: readonly string[] = [
  'SecretsLoadError',
  'SecretsConfigError',
  'RedisSentinelConfigError',
  'RedisSentinelUnavailableError',
  'RedisSentinelStartupError',
  'LokiLoggerConfigError',
];

/** An error class, or an error's `name`. */
export type BootErrorMatcher = string | (abstract new (...args: never[]) => Error);

/** Options of `createBootstrapLogger()`. */
export interface BootstrapLoggerOptions extends Pick<
  LokiLoggerModuleOptions,
  'service' | 'env' | 'format' | 'colors' | 'redactKeys' | 'redactValues' | 'minRedactLength' | 'redactCensor'
> {
  /**
   * Minimum level. Default: `'info'`. An unknown level (a typo in `LOG_LEVEL`) is read as `'info'`
   * instead of throwing: this logger exists to report configuration errors, so it must not fail on one.
   */
  level?: string;
  /** Where lines go. Default: `process.stdout`, as the app logger. */
  stream?: Writable;
  /**
   * The app's own typed boot errors (classes or names), written like the libs' ones: typed name and
   * message, no stack. Adds to `DEFAULT_EXPECTED_BOOT_ERRORS` and Nest's own DI and module errors.
   * Every other error keeps its stack: it is a bug, and the stack says where. Default: none.
   */
  expectedErrors?: readonly BootErrorMatcher[];
}

/** How long `bootFailed()` waits, at most, for stdout and stderr to take the last lines. */
const DRAIN_DEADLINE_MS = 2000;

/**
 * The logger of `NestFactory.create(AppModule, { logger })`, for the time before the app's
 * `LokiLogger` exists (nest-winston's `WinstonModule.createLogger()`): the same JSON line, with
 * redaction of keys and of `redactValues`. Errors are written with their typed name (Nest's
 * `UnknownDependenciesException`, not `Error`); expected boot errors without their stack.
 * Creating it makes it Nest's logger at once (`Logger.overrideLogger`). See the README's `main.ts`
 * recipe.
 */
export class BootstrapLogger implements LoggerService {
  private readonly logger: LokiLogger;
  private readonly stream: Writable;
  private readonly expectedNames: Set<string>;
  private readonly expectedClasses: Array<abstract new (...args: never[]) => Error>;
  /** The error `bootFailed()` reports: Nest's ExceptionHandler copy of it is not written again. */
  private failure: { error: unknown } | undefined;

  constructor(options: BootstrapLoggerOptions) {
    const { level, expectedErrors = [], ...rest } = options;
    this.stream = options.stream ?? process.stdout;
    this.logger = new LokiLogger({
      ...rest,
      stream: this.stream,
      level: isLokiLogLevel(level) ? level : 'info',
    });
    this.expectedNames = new Set([
      ...DEFAULT_EXPECTED_BOOT_ERRORS,
      ...expectedErrors.filter((e): e is string => typeof e === 'string'),
    ]);
    this.expectedClasses = expectedErrors.filter((e) => typeof e !== 'string');
    // Nest's logger from now on, not only from NestFactory.create(): a failure before it (importing
    // AppModule) and `new Logger()` lines written while modules load are JSON too.
    Logger.overrideLogger(this);
  }

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.log(...this.typed(message, optionalParams));
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    // Nest's ExceptionHandler logs the boot error it then rethrows: `bootFailed()` writes it once.
    if (this.failure !== undefined && message === this.failure.error) return;
    this.logger.error(...this.typed(message, optionalParams));
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.warn(...this.typed(message, optionalParams));
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.debug(...this.typed(message, optionalParams));
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.verbose(...this.typed(message, optionalParams));
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.fatal(...this.typed(message, optionalParams));
  }

  setLogLevels(levels: LogLevel[]): void {
    this.logger.setLogLevels(levels);
  }

  /**
   * Reports a failed boot: Nest's buffered boot lines first (what happened before), then one `fatal`
   * line at context `Bootstrap` with the typed `error`, through the logger Nest uses at that moment
   * (this one, or the app's `LokiLogger` once `app.useLogger()` ran, which also masks the secrets'
   * values). Nest's lines after it are held, never written: the failure is the last line. Resolves
   * once stdout and stderr took every line (at most 2 s), so a `process.exit(1)` right after loses
   * nothing, even on a pipe that is not read at that moment.
   */
  async bootFailed(error: unknown): Promise<void> {
    this.failure = { error };
    // `autoFlushLogs: false` left Nest's buffered boot lines to us (the copy of `error` is skipped).
    Logger.flush();
    Logger.fatal(this.failureLine(error), 'Bootstrap');
    // Modules still initialising when the boot failed keep logging ("... dependencies initialized"):
    // held, never written, so the failure stays the last line before the exit.
    Logger.attachBuffer();
    await this.drained();
  }

  private failureLine(error: unknown): Record<string, unknown> {
    if (!(error instanceof Error)) return { message: `failed to start: ${String(error)}`, thrown: error };
    return { message: `failed to start: ${error.message}`, error: this.errorView(error) };
  }

  /** Nest's calling convention, with each `Error` replaced by its boot view. */
  private typed(message: unknown, params: unknown[]): [unknown, ...unknown[]] {
    const head =
      message instanceof Error ? { message: message.message, error: this.errorView(message) } : message;
    return [head, ...params.map((p) => (p instanceof Error ? { error: this.errorView(p) } : p))];
  }

  /** `{ name, message, ...own fields }` of an expected error; any other one as is, stack included. */
  private errorView(err: Error): unknown {
    if (!this.isExpected(err)) return err;
    // A Nest error keeps the name "Error": its class says which one it is.
    const name = err instanceof RuntimeException && err.name === 'Error' ? err.constructor.name : err.name;
    const view: Record<string, unknown> = { name, message: err.message };
    for (const key of Object.keys(err)) {
      if (key !== 'name' && key !== 'message' && key !== 'stack')
        view[key] = (err as unknown as Record<string, unknown>)[key];
    }
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) view.cause = { name: cause.name, message: cause.message };
    else if (cause !== undefined) view.cause = cause;
    return view;
  }

  private isExpected(err: Error): boolean {
    return (
      // Nest's DI and module errors (can't resolve dependencies, circular import...): the stack is Nest's.
      err instanceof RuntimeException ||
      this.expectedNames.has(err.name) ||
      this.expectedClasses.some((c) => err instanceof c)
    );
  }

  private drained(): Promise<void> {
    const streams = new Set<Writable>([this.stream, process.stdout, process.stderr]);
    let timer: NodeJS.Timeout | undefined;
    // An empty write completes after every write queued before it: then the bytes are the OS's.
    const written = Promise.all(
      [...streams].map((s) => new Promise<void>((resolve) => s.write('', () => resolve()))),
    );
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_DEADLINE_MS)));
    return Promise.race([written.then(() => undefined), deadline]).finally(() => clearTimeout(timer));
  }
}

/**
 * Creates the logger to pass to `NestFactory.create(AppModule, { logger, bufferLogs: true })`: JSON
 * lines from the first one, boot errors as one typed line each. See `BootstrapLogger`.
 */
export function createBootstrapLogger(options: BootstrapLoggerOptions): BootstrapLogger {
  return new BootstrapLogger(options);
}
