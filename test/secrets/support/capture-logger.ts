import { inspect } from 'node:util';
import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps every line, so tests can assert on (and search) all log output. */
export class CaptureLogger implements LoggerService {
  readonly lines: { level: string; text: string }[] = [];

  log(message: unknown, ...params: unknown[]): void {
    this.record('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.record('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.record('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.record('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.record('verbose', message, params);
  }

  /** Everything logged, as one string (objects and errors rendered with util.inspect). */
  get text(): string {
    return this.lines.map((l) => `${l.level}: ${l.text}`).join('\n');
  }

  byLevel(level: string): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.text);
  }

  private record(level: string, message: unknown, params: unknown[]): void {
    this.lines.push({ level, text: [message, ...params].map(render).join(' ') });
  }
}

function render(value: unknown): string {
  return typeof value === 'string' ? value : inspect(value, { depth: 10 });
}
