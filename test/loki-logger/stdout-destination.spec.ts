import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import TransportStream from 'winston-transport';
import { LokiLogger } from '@bastion/loki-logger';
import { createLogger } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/stdout-writer.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the fixture; `onStart` may stop reading its stdout or close it. */
function runChild(args: string[], onStart?: (child: ReturnType<typeof spawn>) => void): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += String(d)));
  child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
  onStart?.(child);
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })),
  );
}

const seqs = (stdout: string): number[] =>
  stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => (JSON.parse(l) as { seq: number }).seq);

describe('the default stdout destination (lines batched per event-loop turn)', () => {
  it('writes every line, in order, when the process exits right after logging', async () => {
    const run = await runChild(['exit', '5000']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(seqs(run.stdout)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it('never blocks the event loop when nobody reads stdout: lines wait up to the bound, then drop', async () => {
    let child: ReturnType<typeof spawn> | undefined;
    // Read nothing until the child has reported: the pipe (64 KiB) fills within milliseconds. Then
    // read, so that its exit writes what it still holds.
    const run = await runChild(['stuck', '1500'], (c) => {
      child = c;
      c.stdout!.pause();
      let err = '';
      c.stderr!.on('data', (d: Buffer) => {
        err += String(d);
        if (err.includes('\n{')) c.stdout!.resume();
      });
    });
    expect(child).toBeDefined();
    const report = JSON.parse(run.stderr.split('\n').find((l) => l.startsWith('{'))!) as {
      written: number;
      maxLagMs: number;
      mode: string;
      bufferedBytes: number;
      dropped: number;
    };
    expect(report.mode).toBe('buffered');
    expect(report.dropped).toBeGreaterThan(0);
    // Held at most the bound (256 KiB) plus the turn in progress.
    expect(report.bufferedBytes).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
    // Loose: a blocked write would stall the timer for the whole 1.5 s.
    expect(report.maxLagMs).toBeLessThan(400);
    expect(run.stderr).toContain('[@bastion/loki-logger] stdout took no log lines while');
    expect(run.code).toBe(0);
    // What reached stdout is whole lines, in order; the dropped ones are missing, not torn.
    const got = seqs(run.stdout);
    expect(got.length).toBe(report.written - report.dropped);
    for (let i = 1; i < got.length; i++) expect(got[i]!).toBeGreaterThan(got[i - 1]!);
  });

  it('exits promptly when the stdout reader is gone (EPIPE), reporting it once on stderr', async () => {
    const run = await runChild(['broken', '300'], (c) => c.stdout!.destroy());
    expect(run.code).toBe(0);
    expect(run.ms).toBeLessThan(15_000);
    expect(run.stderr).toContain('stdout write failed (EPIPE)');
    const report = JSON.parse(run.stderr.split('\n').find((l) => l.startsWith('{'))!) as {
      written: number;
      dropped: number;
    };
    expect(report.dropped).toBeGreaterThan(0);
    expect(run.stderr.match(/stdout write failed/g)).toHaveLength(1);
  });
});

describe('the fast path beside winston', () => {
  class Collect extends TransportStream {
    readonly lines: string[] = [];
    override log(info: Record<symbol, unknown>, next: () => void): void {
      this.lines.push(info[Symbol.for('message')] as string);
      next();
    }
  }

  it('gives a transport added to logger.winston every line, in the same JSON as stdout', () => {
    const { logger, out } = createLogger();
    logger.log('before', 'Orders');
    const extra = new Collect();
    logger.winston.add(extra);
    logger.log('after', { orderId: 1 }, 'Orders');
    logger.winston.info('through winston', { orderId: 2 });
    expect(extra.lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual([
      'after',
      'through winston',
    ]);
    expect(out.text().trim().split('\n').slice(1)).toEqual(extra.lines);
    logger.winston.remove(extra);
    logger.log('removed again');
    expect(extra.lines).toHaveLength(2);
    expect(out.records().map((r) => r.message)).toEqual([
      'before',
      'after',
      'through winston',
      'removed again',
    ]);
  });

  it('honours a level set on the winston logger or on a transport', () => {
    const { logger, out } = createLogger();
    logger.winston.level = 'warn';
    logger.log('dropped: below warn');
    logger.warn('kept');
    logger.winston.level = 'info';
    logger.winston.transports[0]!.level = 'error';
    logger.warn('dropped: below the transport level');
    logger.error('kept too');
    expect(out.records().map((r) => r.message)).toEqual(['kept', 'kept too']);
  });

  it('writes to the given stream synchronously when stdoutBufferBytes is 0 or a stream is given', () => {
    const { logger, out } = createLogger();
    logger.log('at once');
    expect(out.records().map((r) => r.message)).toEqual(['at once']);
    expect(logger.stdoutStats()).toEqual({ mode: 'stream', bufferedBytes: 0, dropped: 0 });
    const sync = new LokiLogger({ service: 'orders', stdoutBufferBytes: 0, warnIfNoRedactionSource: false });
    expect(sync.stdoutStats().mode).toBe('stream');
  });
});
