import { ConsoleLogger, Logger } from '@nestjs/common';

// Nest keeps these as private/protected statics of `Logger` and `ConsoleLogger` (no public API tells
// whether `bufferLogs` was passed). They are read defensively: if a Nest release renames them, the
// bufferLogs hint is simply never given; logging itself never depends on them.
interface LoggerInternals {
  isBufferAttached?: boolean;
  staticInstanceRef?: unknown;
}
interface ConsoleLoggerInternals {
  lastTimestampAt?: number;
}

const internalsKnown =
  Object.hasOwn(Logger, 'isBufferAttached') &&
  Object.hasOwn(Logger, 'staticInstanceRef') &&
  Object.hasOwn(ConsoleLogger, 'lastTimestampAt');

/**
 * Read while Nest builds the app (the logger's constructor): Nest's own lines go out right now,
 * unbuffered, through its text console logger (`NestFactory.create()` without `bufferLogs`).
 */
export function nestBootLinesUnbuffered(): boolean {
  if (!internalsKnown) return false;
  const logger = Logger as unknown as LoggerInternals;
  return logger.isBufferAttached !== true && logger.staticInstanceRef instanceof ConsoleLogger;
}

/** `app.useLogger(instance)` happened: Nest's `Logger` now writes through `instance`. */
export function isNestAppLogger(instance: object): boolean {
  return internalsKnown && (Logger as unknown as LoggerInternals).staticInstanceRef === instance;
}

/** Nest's console logger has printed at least one text (non-JSON) line in this process. */
export function nestConsolePrinted(): boolean {
  return internalsKnown && (ConsoleLogger as unknown as ConsoleLoggerInternals).lastTimestampAt !== undefined;
}
