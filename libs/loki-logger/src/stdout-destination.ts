import type { Writable } from 'node:stream';
import sonicBoom from 'sonic-boom';

// sonic-boom is CommonJS (`module.exports = SonicBoom`); its types declare an ES default export,
// which Node's ESM loader does not give: the module object is the class itself.
const SonicBoom = sonicBoom as unknown as typeof sonicBoom.SonicBoom;
type SonicBoom = sonicBoom.SonicBoom;

/** Where finished lines go: `write()` takes one or more whole lines and never waits. */
export interface LineDestination {
  write(chunk: string): void;
  /** Resolves once what was written reached the OS, or after `timeoutMs`; `true` when it did. */
  flush(timeoutMs: number): Promise<boolean>;
  /** Counters (the shared stdout buffer's, for the default destination). */
  stats(): StdoutStats;
}

/** Counters of the stdout destination, from `LokiLogger.stdoutStats()`. */
export interface StdoutStats {
  /**
   * `buffered`: the process's shared stdout buffer (the default); `stream`: the `stream` option
   * (or a `process.stdout` that a test or tool replaced), written synchronously.
   */
  readonly mode: 'buffered' | 'stream';
  /** Bytes written but not yet taken by stdout. */
  readonly bufferedBytes: number;
  /** Lines dropped because stdout took nothing while `stdoutBufferBytes` were held. */
  readonly dropped: number;
}

/** Default of `stdoutBufferBytes`. */
export const DEFAULT_STDOUT_BUFFER_BYTES = 16 * 1024 * 1024;

/** Characters collected in one event-loop turn before they are handed to sonic-boom anyway. */
const TURN_BATCH_CHARS = 64 * 1024;

/**
 * The process's stdout, written as pino writes it (sonic-boom, asynchronous `fs.write`), so a line
 * costs no system call and a stdout that blocks (a full pipe, a stalled log driver) never blocks
 * the event loop. The lines of one event-loop turn are joined and handed to sonic-boom once, at the
 * end of the turn: sonic-boom measures its pending chunk on every write, which cost more than
 * building the line when each line was a write. What is left is written synchronously when the
 * process exits. One per process: every logger writes through it, so lines keep their order.
 */
class SharedStdout {
  readonly boom: SonicBoom;
  /** The largest `stdoutBufferBytes` any logger asked for: the buffer is shared. */
  maxBytes: number;
  dropped = 0;
  private broken = false;
  private reportedAt = 0;
  private turn: string[] = [];
  private turnChars = 0;
  private scheduled = false;
  /** Lines in the batch being handed to sonic-boom: what a `drop` event drops. */
  private handing = 0;
  private handingBytes = 0;
  /** Bytes handed to sonic-boom and not written yet. */
  private handed = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
    // sonic-boom checks `maxLength` itself; `drop` is how it reports a line it refused.
    this.boom = new SonicBoom({ fd: process.stdout.fd ?? 1, sync: false, maxLength: maxBytes });
    this.boom.on('write', (n: number) => {
      this.handed -= n;
    });
    this.boom.on('drop', () => {
      this.dropped += this.handing;
      this.handed -= this.handingBytes;
      this.report(
        `stdout took no log lines while ${this.maxBytes} bytes were waiting: ${this.dropped} line(s) dropped so far`,
      );
    });
    this.boom.on('error', (err: NodeJS.ErrnoException) => {
      // EPIPE: the reader is gone (pino does the same); later lines are dropped, not thrown.
      if (!this.broken)
        this.report(`stdout write failed (${err.code ?? err.message}); later lines are dropped`);
      this.broken = true;
    });
    // Whatever is buffered reaches stdout before the process ends, even on process.exit().
    process.once('exit', () => {
      if (this.broken) return;
      try {
        this.handOver();
        this.boom.flushSync();
      } catch {
        // Nothing is left to report to: stderr may be gone as well.
      }
    });
  }

  /** On stderr, at most once a minute: a stuck stdout must not turn into a flood elsewhere. */
  private report(text: string): void {
    const now = Date.now();
    if (now - this.reportedAt < 60_000) return;
    this.reportedAt = now;
    process.stderr.write(`[@bastion/loki-logger] ${text}\n`);
  }

  write(chunk: string): void {
    if (this.broken) {
      this.dropped++;
      return;
    }
    this.turn.push(chunk);
    this.turnChars += chunk.length;
    // A long synchronous burst is handed over in parts, so `maxLength` bounds it as well.
    if (this.turnChars >= TURN_BATCH_CHARS) this.handOver();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.endOfTurn);
    }
  }

  private readonly endOfTurn = (): void => {
    this.scheduled = false;
    this.handOver();
  };

  /** Hands the lines collected so far to sonic-boom, as one string. */
  private handOver(): void {
    if (this.turn.length === 0) return;
    const batch = this.turn.length === 1 ? this.turn[0]! : this.turn.join('');
    this.handing = this.turn.length;
    this.turn = [];
    this.turnChars = 0;
    if (this.broken) this.dropped += this.handing;
    else {
      this.handingBytes = Buffer.byteLength(batch);
      this.handed += this.handingBytes;
      this.boom.write(batch);
    }
    this.handing = 0;
  }

  bufferedBytes(): number {
    // This turn's lines are counted in characters: measuring each line would cost more than it tells.
    return this.handed + this.turnChars;
  }

  flush(timeoutMs: number): Promise<boolean> {
    this.handOver();
    if (this.broken || this.bufferedBytes() === 0) return Promise.resolve(!this.broken);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.boom.off('drain', onDrain);
        resolve(ok);
      };
      const onDrain = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      // sonic-boom emits `drain` each time its buffer empties.
      this.boom.on('drain', onDrain);
    });
  }
}

let shared: SharedStdout | undefined;

/**
 * The destination for `stream`: the shared buffered stdout when it is `process.stdout` (and nobody
 * replaced `process.stdout.write`, as tests that capture it do), the stream itself otherwise.
 */
export function lineDestination(stream: Writable, bufferBytes: number): LineDestination {
  if (stream !== process.stdout || bufferBytes === 0 || stdoutReplaced()) return streamDestination(stream);
  if (shared === undefined) shared = new SharedStdout(bufferBytes);
  else if (bufferBytes > shared.maxBytes) {
    shared.maxBytes = bufferBytes;
    // sonic-boom reads `maxLength` on every write (its types leave it out).
    (shared.boom as unknown as { maxLength: number }).maxLength = bufferBytes;
  }
  const out = shared;
  return {
    write: (chunk) => out.write(chunk),
    flush: (timeoutMs) => out.flush(timeoutMs),
    stats: () => ({ mode: 'buffered', bufferedBytes: out.bufferedBytes(), dropped: out.dropped }),
  };
}

function streamDestination(stream: Writable): LineDestination {
  return {
    write: (chunk) => {
      stream.write(chunk);
    },
    flush: (timeoutMs) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
        // An empty write completes after every write queued before it.
        stream.write('', () => {
          clearTimeout(timer);
          resolve(true);
        });
      }),
    stats: () => ({ mode: 'stream', bufferedBytes: stream.writableLength, dropped: 0 }),
  };
}

/** `process.stdout.write` was replaced (a test capturing output, a tool): write through it. */
function stdoutReplaced(): boolean {
  return process.stdout.write !== Object.getPrototypeOf(process.stdout).write;
}
