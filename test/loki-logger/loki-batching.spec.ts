import { runWithLogContext } from '@bastion/loki-logger';
import { FakeLoki } from '../fake-loki/fake-loki.js';
import { createLogger, sleep } from './helpers.js';

describe('Loki transport: batching and wire formats', () => {
  let fake: FakeLoki;
  beforeEach(async () => {
    fake = await FakeLoki.start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('flushes by entry count, by bytes and by interval', async () => {
    const { logger } = createLogger({
      loki: { url: fake.url, batchMaxEntries: 10, batchIntervalMs: 60_000 },
    });
    for (let i = 0; i < 25; i++) logger.log(`line ${i}`);
    await vi.waitFor(() => expect(fake.pushes.length >= 2, 'two count-triggered pushes').toBe(true), {
      timeout: 20_000,
      interval: 20,
    });
    await sleep(100);
    // 25 lines with a 10-line batch and a 60 s interval: exactly two full pushes, 5 lines waiting.
    expect(fake.pushes.map((p) => p.entries)).toEqual([10, 10]);
    expect(logger.stats()!.bufferedEntries).toBe(5);
    await logger.onApplicationShutdown();

    const bytes = createLogger({ loki: { url: fake.url, batchMaxBytes: 2000, batchIntervalMs: 60_000 } });
    const before = fake.pushes.length;
    for (let i = 0; i < 10; i++) bytes.logger.log('x'.repeat(500));
    await vi.waitFor(() => expect(fake.pushes.length >= before + 2, 'byte-triggered pushes').toBe(true), {
      timeout: 20_000,
      interval: 20,
    });
    // Each line is ~600 bytes of JSON: a 2000-byte batch holds at most 3 of them.
    for (const p of fake.pushes.slice(before)) expect(p.entries).toBeLessThanOrEqual(3);
    await bytes.logger.onApplicationShutdown();

    // Sizes are UTF-8 bytes, as Loki counts them: "€" is 1 UTF-16 unit but 3 bytes. Counted in
    // units, a 3000-byte batch would take 7 of these ~1000-byte lines (~7000 bytes).
    const wide = createLogger({ loki: { url: fake.url, batchMaxBytes: 3000, batchIntervalMs: 60_000 } });
    const wideStart = fake.pushes.length;
    for (let i = 0; i < 12; i++) wide.logger.log('€'.repeat(300));
    expect(await wide.logger.flush(5000)).toBe(true);
    const widePushes = fake.pushes.slice(wideStart);
    expect(widePushes.reduce((n, p) => n + p.entries, 0)).toBe(12);
    for (const p of widePushes) expect(p.bytes).toBeLessThanOrEqual(3000);
    await wide.logger.onApplicationShutdown();

    const timed = createLogger({ loki: { url: fake.url, batchIntervalMs: 200 } });
    const start = fake.pushes.length;
    timed.logger.log('lonely line');
    await sleep(80);
    expect(fake.pushes.length).toBe(start); // not before the interval
    await vi.waitFor(() => expect(fake.pushes.length === start + 1, 'interval push').toBe(true), {
      timeout: 2000,
      interval: 20,
    });
    expect(fake.lines().at(-1)).toContain('lonely line');
    await timed.logger.onApplicationShutdown();
  });

  it('sends JSON with gzip that Loki decodes, with labels, structured metadata and the stdout line', async () => {
    const { logger, out } = createLogger({ loki: { url: fake.url, labels: { team: 'core' } } });
    runWithLogContext({ requestId: 'req-1', userId: 42 }, () =>
      logger.log('hello', { orderId: 7 }, 'Orders'),
    );
    expect(await logger.flush(3000)).toBe(true);
    expect(fake.pushes[0]).toMatchObject({
      status: 204,
      contentType: 'application/json',
      contentEncoding: 'gzip',
    });
    expect(fake.entries).toHaveLength(1);
    const [entry] = fake.entries;
    expect(entry!.labels).toEqual({ service_name: 'orders', env: 'test', team: 'core' });
    expect(entry!.metadata).toEqual({ request_id: 'req-1', user_id: '42' });
    // Formatted once: Loki gets exactly the stdout line.
    expect(`${entry!.line}\n`).toBe(out.text());
    expect(JSON.parse(entry!.line)).toMatchObject({
      message: 'hello',
      orderId: 7,
      context: 'Orders',
      requestId: 'req-1',
    });
    await logger.onApplicationShutdown();
  });

  it('sends protobuf with snappy that Loki decodes (decoded with protobufjs and the logproto schema)', async () => {
    const { logger } = createLogger({
      loki: { url: fake.url, encoding: 'protobuf', labels: { region: 'eu "west"' } },
    });
    runWithLogContext({ requestId: 'req-2', traceId: 'abc' }, () => {
      logger.log('first');
      logger.warn('second ünïcødé');
    });
    expect(await logger.flush(3000)).toBe(true);
    expect(fake.pushes[0]).toMatchObject({ status: 204, contentType: 'application/x-protobuf' });
    expect(fake.entries.map((e) => JSON.parse(e.line).message)).toEqual(['first', 'second ünïcødé']);
    expect(fake.entries[0]!.labels).toEqual({ env: 'test', region: 'eu "west"', service_name: 'orders' });
    expect(fake.entries[1]!.metadata).toEqual({ request_id: 'req-2', trace_id: 'abc' });
    await logger.onApplicationShutdown();
  });

  it('gives strictly increasing nanosecond timestamps, so Loki never merges identical lines', async () => {
    const { logger } = createLogger({ loki: { url: fake.url } });
    for (let i = 0; i < 500; i++) logger.log('same line');
    expect(await logger.flush(3000)).toBe(true);
    // The fake drops an entry equal (timestamp + line) to the stream's previous one, as Loki's ingester.
    expect(fake.entries).toHaveLength(500);
    const ts = fake.pushes.flatMap((p) => p.timestamps);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! > ts[i - 1]!).toBe(true);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    expect(nowNs - ts[0]!).toBeLessThan(60_000_000_000n);
    await logger.onApplicationShutdown();
  });

  it('sends tenant, basic auth or bearer token and custom headers', async () => {
    const basic = createLogger({
      loki: {
        url: fake.url,
        tenant: 'team-a',
        username: 'loki',
        password: 's3cr3t-pass',
        headers: { 'X-Extra': '1' },
      },
    });
    basic.logger.log('with basic auth');
    await basic.logger.flush(3000);
    const h = fake.pushes[0]!.headers;
    expect(h['x-scope-orgid']).toBe('team-a');
    expect(h.authorization).toBe(`Basic ${Buffer.from('loki:s3cr3t-pass').toString('base64')}`);
    expect(h['x-extra']).toBe('1');
    expect(fake.entries[0]!.tenant).toBe('team-a');
    await basic.logger.onApplicationShutdown();

    const bearer = createLogger({ loki: { url: fake.url, bearerToken: 'tok-123456' } });
    bearer.logger.log('with bearer, and the token tok-123456 is masked');
    await bearer.logger.flush(3000);
    expect(fake.pushes[1]!.headers.authorization).toBe('Bearer tok-123456');
    expect(fake.entries[1]!.line).not.toContain('tok-123456');
    await bearer.logger.onApplicationShutdown();

    // A function credential is read per push: a rotated secret is used without a restart.
    let current = 'first-pass';
    const rotating = createLogger({ loki: { url: fake.url, username: 'u', password: () => current } });
    rotating.logger.log('one');
    await rotating.logger.flush(3000);
    current = 'second-pass';
    rotating.logger.log('two');
    await rotating.logger.flush(3000);
    expect(
      fake.pushes
        .slice(-2)
        .map((p) => Buffer.from(String(p.headers.authorization).slice(6), 'base64').toString()),
    ).toEqual(['u:first-pass', 'u:second-pass']);
    await rotating.logger.onApplicationShutdown();
  });

  it('truncates lines over the 256 KB default with a marker instead of losing them', async () => {
    const { logger, out } = createLogger({ loki: { url: fake.url } });
    logger.log('big', { blob: 'é'.repeat(200_000) }); // ~400 KB of UTF-8
    expect(await logger.flush(3000)).toBe(true);
    expect(fake.pushes[0]!.status).toBe(204);
    const line = fake.entries[0]!.line;
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(256 * 1024);
    expect(line).toMatch(/…\[truncated \d+ bytes to 262144\]$/);
    expect(logger.stats()!.truncated).toBe(1);
    expect(out.text().length).toBeGreaterThan(200_000); // stdout keeps the whole line
    await logger.onApplicationShutdown();
  });

  it('rejects invalid or too many labels at boot', () => {
    expect(() => createLogger({ loki: { url: fake.url, labels: { 'bad-name': 'x' } } })).toThrow(
      /invalid label name/,
    );
    expect(() => createLogger({ loki: { url: fake.url, labels: { __name__: 'x' } } })).toThrow(
      /invalid label name/,
    );
    const many = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`l${i}`, 'v']));
    expect(() => createLogger({ loki: { url: fake.url, labels: many } })).toThrow(
      /loki\.labels makes 16 labels .*more than the 15 Loki accepts/,
    );
  });
});
