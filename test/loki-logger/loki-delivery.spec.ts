import { runWithLogContext } from '@bastion/loki-logger';
import { FakeLoki } from '../fake-loki/fake-loki.js';
import { createLogger, sleep } from './helpers.js';

/**
 * Outage length of the "no line lost" test. The issue asks for 30 s; the code path (connection
 * refused → retry with backoff → delivery after recovery) is the same for any length, so the
 * default keeps the suite fast. Run `LOKI_TEST_OUTAGE_MS=30000 npx vitest run ...` for the full one.
 */
const OUTAGE_MS = Number(process.env.LOKI_TEST_OUTAGE_MS ?? 3000);

describe('Loki transport: failures and delivery guarantees', () => {
  let fake: FakeLoki;
  beforeEach(async () => {
    fake = await FakeLoki.start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it(
    `loses no line through a ${OUTAGE_MS} ms outage that fits in the buffer`,
    { timeout: OUTAGE_MS + 30_000 },
    async () => {
      const { logger } = createLogger({
        loki: { url: fake.url, batchIntervalMs: 100, minBackoffMs: 100, maxBackoffMs: 1000 },
      });
      logger.log('before the outage');
      expect(await logger.flush(3000)).toBe(true);
      await fake.refuse();
      const total = 400;
      const started = Date.now();
      for (let i = 0; i < total; i++) {
        logger.log(`during the outage #${i}`);
        if (i % 20 === 19) await sleep(OUTAGE_MS / (total / 20));
      }
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - started)));
      const during = logger.stats()!;
      expect(during.consecutiveFailures).toBeGreaterThan(0);
      expect(during.retries).toBeGreaterThan(0);
      expect(during.bufferedEntries).toBe(total);
      await fake.accept();
      await vi.waitFor(
        () => expect(logger.stats()!.bufferedEntries === 0, 'delivery after the outage').toBe(true),
        { timeout: 15_000, interval: 20 },
      );
      const got = fake.lines().map((l) => JSON.parse(l).message as string);
      const expected = [
        'before the outage',
        ...Array.from({ length: total }, (_, i) => `during the outage #${i}`),
      ];
      expect(got).toEqual(expected); // all of them, once, in order
      expect(Object.values(logger.stats()!.dropped).every((n) => n === 0)).toBe(true);
      await logger.onApplicationShutdown();
    },
  );

  it('keeps memory bounded and counts drops through an outage that does not fit', async () => {
    const { logger, diagnostics } = createLogger({
      loki: {
        url: fake.url,
        maxBufferEntries: 100,
        maxBufferBytes: 20_000,
        minBackoffMs: 50,
        maxBackoffMs: 200,
      },
    });
    await fake.refuse();
    for (let i = 0; i < 1000; i++) logger.log(`line #${i}`);
    let s = logger.stats()!;
    expect(s.bufferedEntries).toBe(100);
    expect(s.dropped.bufferFull).toBe(900);
    for (let i = 0; i < 100; i++) logger.log(`wide #${i}`, { pad: 'x'.repeat(1000) });
    s = logger.stats()!;
    expect(s.bufferedBytes).toBeLessThanOrEqual(20_000);
    expect(s.dropped.bufferFull).toBeGreaterThan(1000);
    // Reported once (rate-limited), not once per dropped line.
    expect(diagnostics.text().match(/\[bufferFull\]/g)).toHaveLength(1);
    await fake.accept();
    expect(await logger.flush(10_000)).toBe(true);
    const got = fake.lines().map((l) => JSON.parse(l).message as string);
    // Drop-oldest: what arrives is the newest lines, ending with the last one logged.
    expect(got.at(-1)).toBe('wide #99');
    expect(got.length + logger.stats()!.dropped.bufferFull).toBe(1100);
    await logger.onApplicationShutdown();
  });

  it('keeps exact counts when overflow drops entries of the batch in flight (sent + dropped = logged)', async () => {
    const { logger } = createLogger({ loki: { url: fake.url, batchMaxEntries: 50, maxBufferEntries: 100 } });
    // Synchronous burst: the first batch is taken at 50 lines, then overflow pushes its lines out
    // of the buffer while it is being sent; Loki accepts it, so they count as sent, not dropped.
    for (let i = 0; i < 1000; i++) logger.log(`burst #${i}`);
    expect(await logger.flush(5000)).toBe(true);
    const s = logger.stats()!;
    expect(s.sent).toBe(fake.entries.length);
    expect(s.sent + s.dropped.bufferFull).toBe(1000);
    expect(
      fake
        .lines()
        .map((l) => JSON.parse(l).message as string)
        .slice(0, 2),
    ).toEqual(['burst #0', 'burst #1']);
    await logger.onApplicationShutdown();
  });

  it('never re-sends a batch answered 400 (Loki kept the valid part) and counts it', async () => {
    const { logger, diagnostics } = createLogger({ loki: { url: fake.url } });
    fake.failNext({
      kind: 'status',
      status: 400,
      body: 'entry for stream \'{app="x"}\' has timestamp too old',
    });
    for (let i = 0; i < 5; i++) logger.log(`doomed #${i}`);
    expect(await logger.flush(3000)).toBe(true);
    expect(fake.pushes).toHaveLength(1);
    expect(logger.stats()!.dropped.badRequest).toBe(5);
    expect(diagnostics.text()).toMatch(/dropped 5 lines \[badRequest\]: Loki answered 400/);
    fake.failNext({ kind: 'status', status: 413, body: 'request body too large' });
    logger.log('too large');
    await logger.flush(3000);
    logger.log('fine');
    await logger.flush(3000);
    expect(fake.pushes.map((p) => p.status)).toEqual([400, 413, 204]);
    expect(fake.pushes[2]!.entries).toBe(1); // only the new line: nothing old came back
    expect(logger.stats()!.dropped).toMatchObject({ badRequest: 5, tooLarge: 1 });
    await logger.onApplicationShutdown();
  });

  it('retries 500 and 429, honouring Retry-After', async () => {
    const { logger } = createLogger({ loki: { url: fake.url, minBackoffMs: 50, maxBackoffMs: 200 } });
    fake.failNext({ kind: 'status', status: 500 });
    fake.failNext({ kind: 'status', status: 429, retryAfter: '1' });
    logger.log('persistent');
    expect(await logger.flush(10_000)).toBe(true);
    expect(fake.pushes.map((p) => p.status)).toEqual([500, 429, 204]);
    const wait = fake.pushes[2]!.at - fake.pushes[1]!.at;
    expect(wait).toBeGreaterThanOrEqual(950);
    expect(fake.lines()).toHaveLength(1);
    expect(logger.stats()!.retries).toBe(2);
    await logger.onApplicationShutdown();
  });

  it('aborts a push that exceeds the timeout and retries it', async () => {
    const { logger } = createLogger({
      loki: { url: fake.url, timeoutMs: 300, minBackoffMs: 50, maxBackoffMs: 100 },
    });
    fake.failNext({ kind: 'hang' });
    const t0 = Date.now();
    logger.log('survives a hang');
    expect(await logger.flush(5000)).toBe(true);
    expect(fake.hung).toBe(1);
    // The connection of the hung request was really closed by the client, not left dangling.
    await vi.waitFor(() => expect(fake.hungClosed === 1, 'the aborted socket to close').toBe(true), {
      timeout: 2000,
      interval: 20,
    });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(fake.lines()).toHaveLength(1);
    // The aborted push counted as a failure; the accepted retry cleared `lastError` (current trouble only).
    expect(logger.stats()).toMatchObject({ retries: 1, consecutiveFailures: 0, lastError: undefined });
    expect(logger.stats()!.lastFailureAt).toBeGreaterThanOrEqual(t0);
    await logger.onApplicationShutdown();
  });

  it('falls back from structured metadata on a Loki 2.x 400, warns once and re-sends that batch', async () => {
    await fake.close();
    fake = await FakeLoki.start({ legacy2x: true });
    const { logger, diagnostics } = createLogger({ loki: { url: fake.url } });
    runWithLogContext({ requestId: 'r-legacy' }, () => {
      logger.log('one');
      logger.log('two');
    });
    expect(await logger.flush(3000)).toBe(true);
    expect(fake.pushes.map((p) => [p.status, p.withMetadata])).toEqual([
      [400, 2],
      [204, 0],
    ]);
    expect(fake.entries.map((e) => JSON.parse(e.line))).toMatchObject([
      { message: 'one', requestId: 'r-legacy' },
      { message: 'two', requestId: 'r-legacy' },
    ]);
    runWithLogContext({ requestId: 'r-later' }, () => logger.log('three'));
    await logger.flush(3000);
    expect(fake.pushes.at(-1)).toMatchObject({ status: 204, withMetadata: 0 });
    expect(diagnostics.text().match(/does not accept structured metadata/g)).toHaveLength(1);
    expect(logger.stats()).toMatchObject({ structuredMetadata: false, dropped: { badRequest: 0 } });
    await logger.onApplicationShutdown();

    // Loki <= 2.8 words its 400 without naming structured metadata: the fallback still happens.
    await fake.close();
    fake = await FakeLoki.start({ legacy2x: true, legacyDecoderMessage: true });
    const old = createLogger({ loki: { url: fake.url } });
    runWithLogContext({ requestId: 'r-old' }, () => old.logger.log('old decoder'));
    expect(await old.logger.flush(3000)).toBe(true);
    expect(fake.pushes.map((p) => p.status)).toEqual([400, 204]);
    expect(old.logger.stats()).toMatchObject({ structuredMetadata: false, dropped: { badRequest: 0 } });
    await old.logger.onApplicationShutdown();

    // Forced on: no fallback, the 400 is final (and counted).
    const forced = createLogger({ loki: { url: fake.url, structuredMetadata: 'always' } });
    runWithLogContext({ requestId: 'r-forced' }, () => forced.logger.log('forced'));
    await forced.logger.flush(3000);
    expect(forced.logger.stats()).toMatchObject({ structuredMetadata: true, dropped: { badRequest: 1 } });
    await forced.logger.onApplicationShutdown();
  });

  it('flushes on shutdown, within the deadline even when Loki hangs', async () => {
    const { logger } = createLogger({ loki: { url: fake.url, batchIntervalMs: 60_000 } });
    for (let i = 0; i < 10; i++) logger.log(`at shutdown #${i}`);
    await logger.onApplicationShutdown();
    expect(fake.lines()).toHaveLength(10);

    fake.setFault({ kind: 'hang' });
    const stuck = createLogger({ loki: { url: fake.url, batchIntervalMs: 60_000, shutdownTimeoutMs: 500 } });
    stuck.logger.log('cannot be delivered');
    const t0 = Date.now();
    await stuck.logger.onApplicationShutdown();
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(stuck.logger.stats()!.dropped.shutdown).toBe(1);
    expect(stuck.diagnostics.text()).toMatch(/shutdown: 1 lines not delivered/);
    stuck.logger.log('after shutdown'); // still reaches stdout, counted for Loki
    expect(stuck.out.text()).toContain('after shutdown');
    expect(stuck.logger.stats()!.dropped.shutdown).toBe(2);
  });
});
