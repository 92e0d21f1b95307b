import 'reflect-metadata';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import {
  LokiHealthIndicator,
  LokiLogger,
  LokiLoggerModule,
  type LokiHealthOptions,
} from '@bastion/loki-logger';
import { FakeLoki } from '../fake-loki/fake-loki.js';
import { CaptureStream } from './helpers.js';

let healthOptions: LokiHealthOptions = {};

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly loki: LokiHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.loki.isHealthy('loki', healthOptions)]);
  }
}

describe('LokiHealthIndicator', () => {
  let fake: FakeLoki;
  let app: INestApplication;
  let base: string;
  let logger: LokiLogger;

  beforeAll(async () => {
    fake = await FakeLoki.start();
    @Module({
      imports: [
        TerminusModule,
        LokiLoggerModule.forRoot({
          service: 'health-test',
          stream: new CaptureStream(),
          warnIfNoRedactionSource: false, // no secrets here; the counters below are exact
          loki: {
            url: fake.url,
            batchIntervalMs: 20,
            minBackoffMs: 20,
            maxBackoffMs: 40,
            timeoutMs: 500,
            diagnostics: new CaptureStream(),
          },
        }),
      ],
      controllers: [HealthController],
    })
    // oxlint-disable-next-line no-extraneous-class -- a Nest module is declared by its decorator
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    logger = app.get(LokiLogger);
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  const check = async (): Promise<{
    status: number;
    body: { status: string; info?: unknown; error?: unknown; details: { loki: Record<string, unknown> } };
  }> => {
    const res = await fetch(`${base}/health`);
    return { status: res.status, body: (await res.json()) as never };
  };

  it('is up when pushes succeed', async () => {
    logger.log('hello');
    await logger.flush(2000);
    const { status, body } = await check();
    expect(status).toBe(200);
    expect(body.details.loki).toMatchObject({ status: 'up', sent: 1, dropped: 0, consecutiveFailures: 0 });
    expect(JSON.stringify(body)).not.toContain(fake.url); // no endpoint (maybe with credentials) in details
  });

  it('is degraded after lines were dropped recently', async () => {
    fake.failNext({ kind: 'status', status: 400, body: 'bad' });
    logger.log('dropped');
    await logger.flush(2000);
    const { status, body } = await check();
    expect(status).toBe(200);
    expect(body.details.loki).toMatchObject({
      status: 'degraded',
      message: 'log lines dropped recently',
      dropped: 1,
    });
    expect(body.status).toBe('degraded');
  });

  it('is degraded, not down, when Loki is unreachable (readiness untouched), and down when asked to be', async () => {
    healthOptions = { recentDropMs: 1 };
    await fake.refuse();
    logger.log('cannot ship');
    await vi.waitFor(
      () => expect(logger.stats()!.consecutiveFailures >= 3, 'three failed pushes').toBe(true),
      { timeout: 20_000, interval: 20 },
    );
    let r = await check();
    expect(r.status).toBe(200);
    expect(r.body.details.loki).toMatchObject({ status: 'degraded', message: 'Loki unreachable' });
    expect(r.body.details.loki.lastError).toMatch(/ECONNREFUSED/);
    expect(typeof r.body.details.loki.lastFailureAt).toBe('string');

    healthOptions = { recentDropMs: 1, failWhenDown: true };
    r = await check();
    expect(r.status).toBe(503);
    expect(r.body.details.loki).toMatchObject({ status: 'down', message: 'Loki unreachable' });

    await fake.accept();
    await vi.waitFor(() => expect(logger.stats()!.bufferedEntries === 0, 'recovery').toBe(true), {
      timeout: 20_000,
      interval: 20,
    });
    r = await check();
    expect(r.status).toBe(200);
    expect(r.body.details.loki.status).toBe('up');
    // Recovered: `up` carries nothing of the past failure, and the counters agree.
    expect(r.body.details.loki).not.toHaveProperty('lastError');
    expect(r.body.details.loki).not.toHaveProperty('lastFailureAt');
    expect(logger.stats()!.lastError).toBeUndefined();
    expect(logger.stats()!.lastFailureAt).toBeGreaterThan(0); // the time stays in the stats
  });

  it('probes /ready within its timeout when asked', async () => {
    healthOptions = { recentDropMs: 1, failWhenDown: true, probeReady: true, timeoutMs: 300 };
    expect((await check()).body.details.loki).toMatchObject({ status: 'up', ready: true });
    fake.ready = false;
    let r = await check();
    expect(r.body.details.loki).toMatchObject({ status: 'down', ready: false });
    expect(String(r.body.details.loki.message)).toMatch(/^Loki not ready: 503/);
    fake.ready = true;
    // A Loki that does not answer at all: the check still answers within its timeout.
    const silent = await FakeLoki.start();
    await silent.refuse();
    const { createServer } = await import('node:net');
    const blackhole = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => blackhole.listen(silent.port, '127.0.0.1', () => resolve()));
    const hanging = new LokiLogger({ service: 'x', stream: new CaptureStream(), loki: { url: silent.url } });
    const t0 = Date.now();
    const ready = await hanging.loki!.ready(300);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(ready.ready).toBe(false);
    await hanging.onApplicationShutdown();
    blackhole.close();
    healthOptions = {};
  });

  it('answers within 500 ms by default, as every indicator of the libs', async () => {
    const { createServer } = await import('node:net');
    const blackhole = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', () => resolve()));
    const { port } = blackhole.address() as { port: number };
    const hanging = new LokiLogger({
      service: 'x',
      stream: new CaptureStream(),
      warnIfNoRedactionSource: false,
      loki: { url: `http://127.0.0.1:${port}` },
    });
    const indicator = new LokiHealthIndicator(new HealthIndicatorService(), hanging);
    const t0 = Date.now();
    const result = await indicator.isHealthy(undefined, { probeReady: true, failWhenDown: true });
    const took = Date.now() - t0;
    expect(result.loki).toMatchObject({ status: 'down', ready: false });
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(900);
    await hanging.onApplicationShutdown();
    blackhole.close();
  });
});
