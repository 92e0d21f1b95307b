import TransportStream from 'winston-transport';
import { LINE_RECORD, MESSAGE, type LineRecord } from './log-line.format.js';
import type { PrettyLineRenderer } from './pretty-line.js';
import type { LineDestination } from './stdout-destination.js';

/** Writes each finished line to stdout (or the configured stream): JSON, or pretty in development. */
export class StdoutTransport extends TransportStream {
  constructor(
    readonly destination: LineDestination,
    private readonly pretty?: PrettyLineRenderer,
  ) {
    super();
  }

  override log(info: Record<symbol, unknown>, next: () => void): void {
    this.writeLine(info);
    next();
  }

  /** Writes the line of an `info` that went through the line format (`LokiLogger` calls it directly). */
  writeLine(info: Record<symbol, unknown>): void {
    const line =
      this.pretty === undefined
        ? (info[MESSAGE] as string)
        : this.pretty.render(info[LINE_RECORD] as LineRecord);
    this.destination.write(`${line}\n`);
  }
}
