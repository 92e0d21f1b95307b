import type { Writable } from 'node:stream';
import TransportStream from 'winston-transport';
import { LINE_RECORD, MESSAGE, type LineRecord } from './log-line.format.js';
import type { PrettyLineRenderer } from './pretty-line.js';

/** Writes each finished line to stdout (or the configured stream): JSON, or pretty in development. */
export class StdoutTransport extends TransportStream {
  constructor(
    private readonly out: Writable,
    private readonly pretty?: PrettyLineRenderer,
  ) {
    super();
  }

  override log(info: Record<symbol, unknown>, next: () => void): void {
    const line =
      this.pretty === undefined
        ? (info[MESSAGE] as string)
        : this.pretty.render(info[LINE_RECORD] as LineRecord);
    this.out.write(`${line}\n`);
    next();
  }
}
