import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { register, Registry } from 'prom-client';
import { LokiLogger, LokiLoggerModule, type LokiShippingOptions } from '@bastion/loki-logger';
import { LokiLoggerMetricsModule } from '@bastion/loki-logger/metrics';
import { FakeLoki } from '../fake-loki/fake-loki.js';
import { CaptureStream } from './helpers.js';
import { parsePrometheusText } from '../support/prometheus-text.js';

/** The series of one scrape of `registry`. */
async function scrape(registry: Registry): Promise<Map<string, number>> {
  return parsePrometheusText(await registry.metrics());
}

/** A Nest app context with the logger (global) and its metrics on `registry` (default: prom-client's). */
async function createApp(registry: Registry | undefined, loki: LokiShippingOptions | undefined) {
  const out = new CaptureStream();
  const diagnostics = new CaptureStream();
  @Module({
    imports: [
      LokiLoggerModule.forRoot({
        service: 'orders',
        env: 'test',
        stream: out,
        warnIfNoRedactionSource: false,
        isGlobal: true,
        loki: loki && { diagnostics, ...loki },
      }),
      LokiLoggerMetricsModule.forRoot(registry ? { registry } : {}),
    ],
  })
  class AppModule {}
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
  return { app, logger: app.get(LokiLogger), out, diagnostics };
}

const REASONS = ['bufferFull', 'badRequest', 'tooLarge', 'rejected', 'shutdown'];

describe('@bastion/loki-logger/metrics (prom-client)', () => {
  let fake: FakeLoki;
  beforeEach(async () => {
    fake = await FakeLoki.start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('counts shipped lines and pushes by outcome (2xx, 429, network), bufferFull drops in an outage; no credential in the output; removed on close', async () => {
    const registry = new Registry();
    const { app, logger } = await createApp(registry, {
      url: fake.url,
      username: 'loki-user-3141',
      password: 'Loki-pw-9f3a77',
      batchIntervalMs: 20,
      minBackoffMs: 50,
      maxBackoffMs: 200,
      maxBufferEntries: 20,
    });

    const boot = await scrape(registry);
    expect(boot.get('bastion_loki_lines_shipped_total')).toBe(0);
    for (const reason of REASONS)
      expect(boot.get(`bastion_loki_lines_dropped_total{reason="${reason}"}`)).toBe(0);
    for (const outcome of ['2xx', '429', '5xx', '4xx', 'network']) {
      expect(boot.get(`bastion_loki_pushes_total{outcome="${outcome}"}`)).toBe(0);
      expect(boot.get(`bastion_loki_push_duration_seconds_count{outcome="${outcome}"}`)).toBe(0);
    }
    expect(boot.get('bastion_loki_structured_metadata')).toBe(1);
    expect(boot.get('bastion_loki_stdout_dropped_lines_total')).toBe(0);
    expect(boot.has('bastion_loki_stdout_buffered_bytes')).toBe(true);

    for (let i = 0; i < 5; i++) logger.log(`shipped #${i}`);
    expect(await logger.flush(5000)).toBe(true);
    const shipped = await scrape(registry);
    expect(shipped.get('bastion_loki_lines_shipped_total')).toBe(5);
    expect(shipped.get('bastion_loki_lines_shipped_total')).toBe(fake.entries.length);
    const ok = shipped.get('bastion_loki_pushes_total{outcome="2xx"}')!;
    expect(ok).toBe(fake.pushes.length);
    expect(shipped.get('bastion_loki_push_duration_seconds_count{outcome="2xx"}')).toBe(ok);
    expect(shipped.get('bastion_loki_push_duration_seconds_sum{outcome="2xx"}')).toBeGreaterThan(0);
    expect(shipped.get('bastion_loki_push_duration_seconds_bucket{le="+Inf",outcome="2xx"}')).toBe(ok);
    expect(shipped.get('bastion_loki_buffered_lines')).toBe(0);
    expect(shipped.get('bastion_loki_buffered_bytes')).toBe(0);

    // Rate limited once: counted as a 429 and a retry, then delivered.
    fake.failNext({ kind: 'status', status: 429, body: 'Ingestion rate limit exceeded' });
    logger.log('after a 429');
    expect(await logger.flush(5000)).toBe(true);
    const limited = await scrape(registry);
    expect(limited.get('bastion_loki_pushes_total{outcome="429"}')).toBe(1);
    expect(limited.get('bastion_loki_push_duration_seconds_count{outcome="429"}')).toBe(1);
    expect(limited.get('bastion_loki_push_retries_total')).toBe(1);
    expect(limited.get('bastion_loki_lines_shipped_total')).toBe(6);

    // Loki down: connections refused, 50 lines into a buffer of 20.
    await fake.refuse();
    for (let i = 0; i < 50; i++) logger.log(`outage #${i}`);
    await vi.waitFor(
      async () =>
        expect((await scrape(registry)).get('bastion_loki_pushes_total{outcome="network"}')).toBeGreaterThan(
          1,
        ),
      { timeout: 5000, interval: 20 },
    );
    const outage = await scrape(registry);
    expect(outage.get('bastion_loki_lines_dropped_total{reason="bufferFull"}')).toBe(30);
    expect(outage.get('bastion_loki_buffered_lines')).toBe(20);
    expect(outage.get('bastion_loki_buffered_bytes')).toBeGreaterThan(0);
    expect(outage.get('bastion_loki_push_retries_total')).toBeGreaterThan(1);
    expect(outage.get('bastion_loki_push_duration_seconds_count{outcome="network"}')).toBe(
      outage.get('bastion_loki_pushes_total{outcome="network"}'),
    );
    expect(outage.get('bastion_loki_lines_shipped_total')).toBe(6);

    await fake.accept();
    expect(await logger.flush(10_000)).toBe(true);
    const recovered = await scrape(registry);
    expect(recovered.get('bastion_loki_lines_shipped_total')).toBe(26);
    expect(recovered.get('bastion_loki_buffered_lines')).toBe(0);

    const text = await registry.metrics();
    const basic = Buffer.from('loki-user-3141:Loki-pw-9f3a77').toString('base64');
    for (const secret of ['Loki-pw-9f3a77', 'loki-user-3141', basic, '127.0.0.1', String(fake.port)])
      expect(text).not.toContain(secret);

    await app.close();
    // Removed with the module: a restarted module (tests, hot reload) registers them again.
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });

  it('counts a refused push as 4xx and its lines as rejected; a bearer token never shows', async () => {
    const registry = new Registry();
    const { app, logger } = await createApp(registry, {
      url: fake.url,
      bearerToken: 'Bearer-tok-5e1d0c',
      batchIntervalMs: 20,
    });
    fake.failNext({ kind: 'status', status: 401, body: 'no org id' });
    for (let i = 0; i < 3; i++) logger.log(`refused #${i}`);
    expect(await logger.flush(5000)).toBe(true);
    const s = await scrape(registry);
    expect(s.get('bastion_loki_pushes_total{outcome="4xx"}')).toBe(1);
    expect(s.get('bastion_loki_lines_dropped_total{reason="rejected"}')).toBe(3);
    expect(s.get('bastion_loki_lines_shipped_total')).toBe(0);
    expect(fake.pushes[0]!.headers.authorization).toBe('Bearer Bearer-tok-5e1d0c');
    expect(await registry.metrics()).not.toContain('Bearer-tok-5e1d0c');
    await app.close();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });

  it('without loki.url: only the stdout metrics, on the default registry when none is given', async () => {
    const { app, logger } = await createApp(undefined, undefined);
    logger.log('stdout only');
    const s = await scrape(register);
    expect([...s.keys()].toSorted()).toEqual([
      'bastion_loki_stdout_buffered_bytes',
      'bastion_loki_stdout_dropped_lines_total',
    ]);
    expect(s.get('bastion_loki_stdout_dropped_lines_total')).toBe(0);
    await app.close();
    expect(await register.getMetricsAsJSON()).toEqual([]);
  });
});
