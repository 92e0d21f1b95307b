import { Writable } from 'node:stream';
import { LokiLogger, type LokiLoggerModuleOptions } from '@bastion/loki-logger';

/** A stream that keeps what was written (stdout stand-in). */
export class CaptureStream extends Writable {
  readonly chunks: string[] = [];

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(String(chunk));
    cb();
  }

  text(): string {
    return this.chunks.join('');
  }

  /** Parsed JSON lines. */
  records(): Array<Record<string, unknown>> {
    return this.text()
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

export { sleep } from '../support/sleep.js';

/** A logger writing to capture streams, built without Nest (the transport behaviour under test). */
export function createLogger(options: Partial<LokiLoggerModuleOptions> = {}): {
  logger: LokiLogger;
  out: CaptureStream;
  diagnostics: CaptureStream;
} {
  const out = new CaptureStream();
  const diagnostics = new CaptureStream();
  const logger = new LokiLogger({
    service: 'orders',
    env: 'test',
    stream: out,
    ...options,
    loki: options.loki ? { diagnostics, ...options.loki } : undefined,
  });
  return { logger, out, diagnostics };
}
