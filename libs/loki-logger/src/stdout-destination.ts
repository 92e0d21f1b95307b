import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';

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

/** Characters collected in one event-loop turn before they are written anyway. */
const TURN_BATCH_CHARS = 64 * 1024;
/** Wait before trying again when stdout is full (EAGAIN). */
const FULL_RETRY_MS = 20;
/** At exit, how long a full stdout is waited for before the rest is given up. */
const EXIT_FLUSH_MS = 1000;

/**
 * The process's stdout, written in batches: the lines of one event-loop turn are joined and written
 * with one system call at the end of the turn, so a line costs no system call of its own. A pipe or
 * socket on stdout is non-blocking (Node opens it so), so a stdout that blocks (a full pipe, a
 * stalled log driver) never blocks the event loop: the write returns EAGAIN, lines wait, up to
 * `maxBytes`, and are then dropped and counted. What is left is written when the process exits,
 * within a second. One per process: every logger writes through it, so lines keep their order.
 *
 * Not sonic-boom (pino's destination), which was tried first: its `flushSync()` at exit retries any
 * write error forever (a process whose stdout reader is gone never exits: EPIPE), its `fs.write` in
 * the thread pool leaves a chunk that is neither written nor safe to write again at exit, and it
 * measures its whole pending chunk on every write.
 */
class SharedStdout {
  /** The largest `stdoutBufferBytes` any logger asked for: the buffer is shared. */
  maxBytes: number;
  dropped = 0;
  private readonly fd: number;
  private broken = false;
  private reportedAt = 0;
  /** This turn's lines. */
  private turn: string[] = [];
  private turnChars = 0;
  private scheduled = false;
  /** Bytes stdout did not take yet (a full pipe), oldest first, with their line counts. */
  private waiting: Array<{ buf: Buffer; lines: number }> = [];
  private waitingBytes = 0;
  private retry: NodeJS.Timeout | undefined;
  private drainWaiters: Array<() => void> = [];

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
    // Reading `process.stdout` opens it: a pipe or socket is then non-blocking.
    this.fd = process.stdout.fd ?? 1;
    process.once('exit', () => this.flushAtExit());
  }

  write(chunk: string): void {
    if (this.broken) {
      this.dropped++;
      return;
    }
    this.turn.push(chunk);
    this.turnChars += chunk.length;
    // A long synchronous burst is written in parts, so `maxBytes` bounds it as well.
    if (this.turnChars >= TURN_BATCH_CHARS) this.endTurn();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.endOfTurn);
    }
  }

  private readonly endOfTurn = (): void => {
    this.scheduled = false;
    this.endTurn();
  };

  /** Writes this turn's lines as one chunk, or queues them behind what stdout has not taken. */
  private endTurn(): void {
    const lines = this.turn.length;
    if (lines === 0) return;
    const buf = Buffer.from(lines === 1 ? this.turn[0]! : this.turn.join(''));
    this.turn = [];
    this.turnChars = 0;
    if (this.waiting.length > 0) {
      if (this.waitingBytes + buf.length > this.maxBytes) {
        this.drop(lines, `stdout took no log lines while ${this.waitingBytes} bytes were waiting`);
        return;
      }
      this.waiting.push({ buf, lines });
      this.waitingBytes += buf.length;
      return;
    }
    const rest = this.writeSome(buf, lines);
    if (rest === undefined || rest.length === 0) return;
    this.waiting.push({ buf: rest, lines });
    this.waitingBytes += rest.length;
    this.retry ??= setTimeout(this.writeWaiting, FULL_RETRY_MS).unref();
  }

  /** Writes what stdout takes now; returns the rest, or `undefined` once stdout is broken. */
  private writeSome(buf: Buffer, lines: number): Buffer | undefined {
    let rest = buf;
    while (rest.length > 0) {
      try {
        rest = rest.subarray(writeSync(this.fd, rest));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return rest;
        // EPIPE (the reader is gone) and the rest: later lines are dropped, never thrown.
        this.broken = true;
        // The lines of `buf` are counted among the waiting ones when it is the head of the queue.
        const lost = this.waiting.reduce((n, w) => n + w.lines, this.waiting[0]?.buf === buf ? 0 : lines);
        this.waiting = [];
        this.waitingBytes = 0;
        this.drop(lost, `stdout write failed (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        this.settle();
        return undefined;
      }
    }
    return rest;
  }

  private readonly writeWaiting = (): void => {
    this.retry = undefined;
    while (this.waiting.length > 0) {
      const head = this.waiting[0]!;
      const rest = this.writeSome(head.buf, head.lines);
      if (rest === undefined) return;
      this.waitingBytes -= head.buf.length - rest.length;
      if (rest.length > 0) {
        head.buf = rest;
        this.retry = setTimeout(this.writeWaiting, FULL_RETRY_MS).unref();
        return;
      }
      this.waiting.shift();
    }
    this.settle();
  };

  private drop(lines: number, why: string): void {
    this.dropped += lines;
    const now = Date.now();
    // On stderr, at most once a minute: a stuck stdout must not turn into a flood elsewhere.
    if (now - this.reportedAt < 60_000) return;
    this.reportedAt = now;
    process.stderr.write(`[@bastion/loki-logger] ${why}: ${this.dropped} line(s) dropped so far\n`);
  }

  private settle(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private flushAtExit(): void {
    this.endTurn();
    const deadline = Date.now() + EXIT_FLUSH_MS;
    while (this.waiting.length > 0 && !this.broken && Date.now() < deadline) {
      this.writeWaiting();
      clearTimeout(this.retry);
      this.retry = undefined;
      // A full pipe: give its reader a moment (no event loop is left to wait with).
      if (this.waiting.length > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }

  bufferedBytes(): number {
    // This turn's lines are counted in characters: measuring each line would cost more than it tells.
    return this.waitingBytes + this.turnChars;
  }

  flush(timeoutMs: number): Promise<boolean> {
    this.endTurn();
    if (this.broken || this.waiting.length === 0) return Promise.resolve(!this.broken);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve(!this.broken);
      });
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
  else if (bufferBytes > shared.maxBytes) shared.maxBytes = bufferBytes;
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
