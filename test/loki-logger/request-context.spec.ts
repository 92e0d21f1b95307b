import 'reflect-metadata';
import {
  Controller,
  Get,
  Injectable,
  Logger,
  Module,
  Param,
  type INestApplication,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LokiLogger, LokiLoggerModule, runWithLogContext, setLogContextUserId } from '@bastion/loki-logger';
import { CaptureStream, sleep } from './helpers.js';

@Injectable()
class OrdersService {
  private readonly logger = new Logger(OrdersService.name);

  async find(id: string): Promise<{ id: string }> {
    await sleep(Math.random() * 10);
    this.logger.log(`service finding ${id}`);
    await new Promise((r) => setImmediate(r));
    await Promise.all([sleep(1), sleep(2)]);
    this.logger.debug?.(`service found ${id}`, { id });
    return { id };
  }
}

@Controller('orders')
class OrdersController {
  constructor(
    private readonly orders: OrdersService,
    private readonly logger: LokiLogger,
  ) {}

  @Get('login/:user')
  login(@Param('user') user: string): string {
    setLogContextUserId(user);
    this.logger.log('logged in', 'OrdersController');
    return 'ok';
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<{ id: string }> {
    this.logger.log(`controller handling ${id}`, 'OrdersController');
    await sleep(Math.random() * 10);
    const result = await this.orders.find(id);
    setTimeout(() => this.logger.log(`timer after ${id}`, 'OrdersController'), 1);
    await sleep(5);
    return result;
  }
}

/** Stands in for an auth/session middleware that runs after the context middleware. */
class FakeAuthMiddleware {
  use(
    req: { headers: Record<string, string>; session?: { user?: string } },
    _res: unknown,
    next: () => void,
  ): void {
    if (req.headers['x-test-user']) req.session = { user: req.headers['x-test-user'] };
    next();
  }
}

const out = new CaptureStream();

@Module({
  imports: [
    LokiLoggerModule.forRoot({
      service: 'orders',
      env: 'test',
      level: 'debug',
      stream: out,
      requestContext: { userId: (req: { session?: { user?: string } }) => req.session?.user },
    }),
  ],
  controllers: [OrdersController],
  providers: [OrdersService],
})
class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(FakeAuthMiddleware).forRoutes('{*path}');
  }
}

/** A completion line of one of the `/orders/order-N` requests. */
const isOrderRequest = (r: Record<string, unknown>) =>
  typeof r.path === 'string' && r.path.startsWith('/orders/order-');

describe('request context', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    app = await NestFactory.create(AppModule, { bufferLogs: true });
    app.useLogger(app.get(LokiLogger));
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(async () => {
    await app.close();
  });

  it('writes Nest boot logs (bufferLogs) as JSON lines through the logger', () => {
    const boot = out
      .records()
      .filter((r) => r.context === 'NestApplication' || r.context === 'InstanceLoader');
    expect(boot.length).toBeGreaterThan(0);
    expect(boot[0]).toMatchObject({ level: 'info', service: 'orders', env: 'test' });
    expect(typeof boot[0]!.timestamp).toBe('string');
  });

  it('puts the request id on every line of a request, after awaits, in services and timers', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `order-${i}`);
    const responses = await Promise.all(ids.map((id) => fetch(`${base}/orders/${id}`)));
    const requestIds = responses.map((r) => r.headers.get('x-request-id'));
    await vi.waitFor(
      () =>
        expect(
          out.records().filter((r) => r.context === 'HTTP' && isOrderRequest(r)).length >= ids.length &&
            out.records().filter((r) => String(r.message).startsWith('timer after')).length >= ids.length,
          'completion and timer lines',
        ).toBe(true),
      { timeout: 20_000, interval: 20 },
    );
    const records = out.records();
    for (const [i, id] of ids.entries()) {
      expect(requestIds[i]).toMatch(/^[0-9a-f-]{36}$/);
      const mine = records.filter((r) => typeof r.message === 'string' && r.message.endsWith(` ${id}`));
      expect(mine.map((r) => r.message)).toEqual(
        expect.arrayContaining([
          `controller handling ${id}`,
          `service finding ${id}`,
          `service found ${id}`,
          `timer after ${id}`,
        ]),
      );
      for (const r of mine) expect(r.requestId).toBe(requestIds[i]);
      // And exactly one completion line for it, with the route pattern.
      const done = records.filter((r) => r.context === 'HTTP' && r.path === `/orders/${id}`);
      expect(done).toHaveLength(1);
      expect(done[0]).toMatchObject({
        method: 'GET',
        route: '/orders/:id',
        status: 200,
        requestId: requestIds[i],
      });
      expect(typeof done[0]!.durationMs).toBe('number');
    }
    expect(new Set(requestIds).size).toBe(ids.length);
  });

  it('reuses a valid incoming X-Request-Id and replaces an invalid one', async () => {
    const good = await fetch(`${base}/orders/a1`, { headers: { 'X-Request-Id': 'upstream-42.abc' } });
    expect(good.headers.get('x-request-id')).toBe('upstream-42.abc');
    const bad = await fetch(`${base}/orders/a2`, { headers: { 'X-Request-Id': 'x"} injected' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await vi.waitFor(
      () =>
        expect(
          out.records().some((r) => r.message === 'controller handling a1'),
          'the a1 line',
        ).toBe(true),
      { timeout: 20_000, interval: 20 },
    );
    const line = out.records().find((r) => r.message === 'controller handling a1');
    expect(line?.requestId).toBe('upstream-42.abc');
  });

  it('adds the user id found by the configured extractor (set by a later middleware) or set later', async () => {
    await fetch(`${base}/orders/u1`, { headers: { 'X-Test-User': 'alice' } });
    await fetch(`${base}/orders/login/bob`);
    await vi.waitFor(
      () =>
        expect(
          out.records().some((r) => r.context === 'HTTP' && r.path === '/orders/login/bob'),
          'bob completion line',
        ).toBe(true),
      { timeout: 20_000, interval: 20 },
    );
    const records = out.records();
    expect(records.find((r) => r.message === 'service finding u1')?.userId).toBe('alice');
    expect(records.find((r) => r.message === 'logged in')?.userId).toBe('bob');
    expect(records.find((r) => r.context === 'HTTP' && r.path === '/orders/login/bob')?.userId).toBe('bob');
    expect(records.find((r) => r.message === 'controller handling a1')?.userId).toBeUndefined();
  });

  it('logs failed requests at warn level with their status', async () => {
    const res = await fetch(`${base}/nowhere?token=abc`);
    expect(res.status).toBe(404);
    await vi.waitFor(
      () =>
        expect(
          out.records().some((r) => r.context === 'HTTP' && r.path === '/nowhere'),
          'the 404 line',
        ).toBe(true),
      { timeout: 20_000, interval: 20 },
    );
    const line = out.records().find((r) => r.context === 'HTTP' && r.path === '/nowhere');
    expect(line).toMatchObject({ level: 'warn', status: 404 });
    expect(JSON.stringify(line)).not.toContain('token=abc'); // the query string is never logged
  });

  it('does not write completion lines for excluded paths (health probes by default)', async () => {
    const res = await fetch(`${base}/health/live`);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/); // still gets a context
    await fetch(`${base}/orders/after-probe`);
    await vi.waitFor(
      () =>
        expect(
          out.records().some((r) => r.context === 'HTTP' && r.path === '/orders/after-probe'),
          'the next line',
        ).toBe(true),
      { timeout: 20_000, interval: 20 },
    );
    expect(out.records().filter((r) => r.context === 'HTTP' && String(r.path).startsWith('/health'))).toEqual(
      [],
    );
  });

  it('opens the same context outside HTTP with runWithLogContext (workers, cron)', async () => {
    const logger = app.get(LokiLogger);
    await runWithLogContext({ requestId: 'job-7', userId: 99 }, async () => {
      await sleep(1);
      logger.log('job step', 'Worker');
    });
    await runWithLogContext({}, async () => logger.log('generated id', 'Worker'));
    logger.log('outside', 'Worker');
    const records = out.records().filter((r) => r.context === 'Worker');
    expect(records[0]).toMatchObject({ message: 'job step', requestId: 'job-7', userId: '99' });
    expect(records[1]!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(records[2]!.requestId).toBeUndefined();
  });
});
