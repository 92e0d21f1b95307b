import 'reflect-metadata';
import { Controller, Get, Injectable, Logger, Param, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { assignLogContext, LokiLogger, LokiLoggerModule } from '@bastion/loki-logger';
import { CaptureStream, sleep } from './helpers.js';

const SECRET_VALUE = 'assigned-secret-value-9Qx';

@Injectable()
class OrdersService {
  private readonly logger = new Logger(OrdersService.name);

  async load(id: string): Promise<void> {
    await sleep(2);
    this.logger.log(`service loaded ${id}`);
  }
}

/** Lets two requests meet: each waits until both have assigned their own fields. */
class Barrier {
  private arrived = 0;
  private release!: () => void;
  private readonly open = new Promise<void>((resolve) => (this.release = resolve));

  async wait(parties: number): Promise<void> {
    if (++this.arrived === parties) this.release();
    await this.open;
  }
}

let barrier = new Barrier();

@Controller()
class OrdersController {
  private readonly logger = new Logger(OrdersController.name);

  constructor(private readonly orders: OrdersService) {}

  @Get('orders/:id')
  async get(@Param('id') id: string): Promise<string> {
    this.logger.log(`before assign ${id}`);
    assignLogContext({ orderId: id, tenant: 'acme' });
    await this.orders.load(id);
    // Re-assigning changes the value; undefined removes the field; line fields are never set.
    assignLogContext({ tenant: undefined, step: 2, requestId: 'forged', level: 'forged', userId: 'forged' });
    this.logger.log(`after reassign ${id}`);
    this.logger.log({ message: `explicit ${id}`, orderId: 'from-the-call' });
    assignLogContext({ apiToken: 'tok-1234', note: `carries ${SECRET_VALUE}` });
    this.logger.log(`redaction ${id}`);
    return 'ok';
  }

  @Get('tenants/:tenant')
  async tenant(@Param('tenant') tenant: string): Promise<string> {
    assignLogContext({ tenant });
    await barrier.wait(2); // both requests have assigned before either writes its lines
    this.logger.log(`tenant line ${tenant}`);
    await sleep(Math.random() * 5);
    this.logger.log(`tenant line 2 ${tenant}`);
    return 'ok';
  }

  @Get('plain')
  plain(): string {
    this.logger.log('plain request');
    return 'ok';
  }
}

describe('assignLogContext(): per-request fields (nestjs-pino assign)', () => {
  const out = new CaptureStream();
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        LokiLoggerModule.forRoot({
          service: 'orders',
          env: 'test',
          stream: out,
          redactValues: [SECRET_VALUE],
        }),
      ],
      controllers: [OrdersController],
      providers: [OrdersService],
    }).compile();
    app = moduleRef.createNestApplication({ bufferLogs: true });
    app.useLogger(app.get(LokiLogger));
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app.close();
  });

  const linesOf = (requestId: string | null) => out.records().filter((r) => r.requestId === requestId);

  it('adds the fields to every later line of the request, not to earlier ones', async () => {
    const res = await fetch(`${base}/orders/o-1`);
    const requestId = res.headers.get('x-request-id');
    await vi.waitFor(
      () =>
        expect(
          linesOf(requestId).some((r) => r.context === 'HTTP'),
          'the completion line',
        ).toBe(true),
      { timeout: 20_000, interval: 20 },
    );
    const lines = linesOf(requestId);
    const byMessage = (m: string) => lines.find((r) => r.message === m)!;

    expect(byMessage('before assign o-1').orderId).toBeUndefined();
    expect(byMessage('service loaded o-1')).toMatchObject({ orderId: 'o-1', tenant: 'acme' });
    const after = byMessage('after reassign o-1');
    expect(after).toMatchObject({ orderId: 'o-1', step: 2, level: 'info', requestId });
    expect('tenant' in after).toBe(false);
    expect(after.userId).toBeUndefined();
    // The assigned fields follow the line's own fields, in the order they were assigned.
    expect(Object.keys(after).slice(-2)).toEqual(['orderId', 'step']);
    // The call's own metadata wins over an assigned field of the same name.
    expect(byMessage('explicit o-1').orderId).toBe('from-the-call');
    // Assigned values are redacted like metadata: sensitive keys and secret values.
    expect(byMessage('redaction o-1')).toMatchObject({ apiToken: '[REDACTED]', note: 'carries [REDACTED]' });
    expect(out.text()).not.toContain('tok-1234');
    expect(out.text()).not.toContain(SECRET_VALUE);
    // The request's completion line is a later line of the request too.
    expect(lines.find((r) => r.context === 'HTTP')).toMatchObject({ orderId: 'o-1', step: 2 });
  });

  it('keeps two concurrent requests apart', async () => {
    barrier = new Barrier();
    const [a, b] = await Promise.all([fetch(`${base}/tenants/alpha`), fetch(`${base}/tenants/beta`)]);
    const idA = a.headers.get('x-request-id');
    const idB = b.headers.get('x-request-id');
    await vi.waitFor(
      () =>
        expect(linesOf(idA).length >= 3 && linesOf(idB).length >= 3, 'both requests to complete').toBe(true),
      { timeout: 20_000, interval: 20 },
    );
    for (const [id, tenant] of [
      [idA, 'alpha'],
      [idB, 'beta'],
    ] as const) {
      const lines = linesOf(id);
      expect(lines.length).toBe(3); // two tenant lines and the completion line
      expect(lines.every((r) => r.tenant === tenant)).toBe(true);
    }
  });

  it('adds nothing to a request that assigned nothing, nor outside any request', async () => {
    const res = await fetch(`${base}/plain`);
    const requestId = res.headers.get('x-request-id');
    await vi.waitFor(() => expect(linesOf(requestId).length >= 2, 'the plain request lines').toBe(true), {
      timeout: 20_000,
      interval: 20,
    });
    for (const line of linesOf(requestId)) {
      expect(
        Object.keys(line).filter((k) => !['method', 'route', 'path', 'status', 'durationMs'].includes(k)),
      ).toEqual(['timestamp', 'level', 'message', 'context', 'service', 'env', 'requestId']);
    }

    expect(assignLogContext({ orderId: 'outside' })).toBe(false);
    app.get(LokiLogger).log('outside any request', 'Test');
    const outside = out.records().find((r) => r.message === 'outside any request')!;
    expect(outside.orderId).toBeUndefined();
  });
});

describe('requestContext.genReqId', () => {
  const out = new CaptureStream();
  let app: INestApplication;
  let base: string;
  let generate: ((req: { method: string; url: string }) => string) | undefined;
  const calls: string[] = [];

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        LokiLoggerModule.forRoot({
          service: 'orders',
          env: 'test',
          stream: out,
          requestContext: {
            genReqId: (req: { method: string; url: string }, res: { setHeader: unknown }) => {
              expect(typeof res.setHeader).toBe('function'); // the response is handed over too
              calls.push(req.url);
              return generate?.(req) ?? '';
            },
          },
        }),
      ],
      controllers: [OrdersController],
      providers: [OrdersService],
    }).compile();
    app = moduleRef.createNestApplication({ bufferLogs: true });
    app.useLogger(app.get(LokiLogger));
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app.close();
  });

  const requestIdsOf = (message: string) =>
    out
      .records()
      .filter((r) => r.message === message)
      .map((r) => r.requestId);

  it('makes the id of a request without one: echoed in the response and on every line', async () => {
    let n = 0;
    generate = (req) => `orders-${req.method.toLowerCase()}-${++n}`;
    const res = await fetch(`${base}/plain`);
    expect(res.headers.get('x-request-id')).toBe('orders-get-1');
    await vi.waitFor(
      () =>
        expect(
          out.records().some((r) => r.requestId === 'orders-get-1' && r.context === 'HTTP'),
          'the completion line',
        ).toBe(true),
      { timeout: 20_000, interval: 20 },
    );
    expect(requestIdsOf('plain request')).toEqual(['orders-get-1']);
  });

  it('is not asked when the incoming id is valid; is asked when it is invalid', async () => {
    calls.length = 0;
    generate = () => 'replacement-id';
    const kept = await fetch(`${base}/plain`, { headers: { 'x-request-id': 'upstream-id-1' } });
    expect(kept.headers.get('x-request-id')).toBe('upstream-id-1');
    expect(calls).toEqual([]);

    const replaced = await fetch(`${base}/plain`, { headers: { 'x-request-id': 'has spaces "quoted"' } });
    expect(replaced.headers.get('x-request-id')).toBe('replacement-id');
    expect(calls).toEqual(['/plain']);
  });

  it('falls back to a UUID, with one warning, when the generator gives an invalid id or throws', async () => {
    generate = () => 'bad id {"level":"fatal"}';
    const first = await fetch(`${base}/plain`);
    const second = await fetch(`${base}/plain`);
    generate = () => {
      throw new Error('generator broke');
    };
    const third = await fetch(`${base}/plain`);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const res of [first, second, third]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toMatch(uuid);
    }
    expect(out.text()).not.toContain('bad id');
    const warnings = out.records().filter((r) => r.context === 'RequestContext');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', returned: 'string' });
    expect(String(warnings[0]!.message)).toContain('genReqId returned an invalid id');
  });
});
