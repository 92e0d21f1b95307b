import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { runWithLogContext } from '@bastion/loki-logger';
import { FakeLoki } from '../fake-loki/fake-loki.js';
import { createLogger } from './helpers.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

/** Runs `fn` inside a span with known ids, as an instrumentation would (no SDK needed). */
function inSpan<T>(fn: () => T): T {
  const span = trace.wrapSpanContext({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
  return context.with(trace.setSpan(context.active(), span), fn);
}

describe('OpenTelemetry: the active span in every line', () => {
  let fake: FakeLoki;
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
  });
  afterAll(() => {
    context.disable();
  });
  beforeEach(async () => {
    fake = await FakeLoki.start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('writes trace_id and span_id inside a span, in the JSON line and as Loki structured metadata', async () => {
    const { logger, out } = createLogger({ loki: { url: fake.url } });
    await inSpan(async () => {
      await Promise.resolve();
      logger.log('inside', 'Orders');
    });
    logger.log('outside', 'Orders');
    expect(await logger.flush(3000)).toBe(true);
    const [inside, outside] = out.records();
    expect(inside).toMatchObject({ message: 'inside', trace_id: TRACE_ID, span_id: SPAN_ID });
    expect(outside).not.toHaveProperty('trace_id');
    expect(outside).not.toHaveProperty('span_id');
    expect(fake.entries.map((e) => e.metadata)).toEqual([{ trace_id: TRACE_ID, span_id: SPAN_ID }, {}]);
    await logger.onApplicationShutdown();
  });

  it('keeps the traceparent trace id of the request context, and the span wins in the metadata', async () => {
    const { logger, out } = createLogger({ loki: { url: fake.url } });
    runWithLogContext({ requestId: 'req-1', traceId: 'from-traceparent' }, () =>
      inSpan(() => logger.log('both')),
    );
    expect(await logger.flush(3000)).toBe(true);
    expect(out.records()[0]).toMatchObject({
      traceId: 'from-traceparent',
      trace_id: TRACE_ID,
      span_id: SPAN_ID,
    });
    expect(fake.entries[0]!.metadata).toEqual({ request_id: 'req-1', trace_id: TRACE_ID, span_id: SPAN_ID });
    await logger.onApplicationShutdown();
  });

  it('ignores an invalid span context and metadata cannot pose as span ids inside a span', () => {
    const { logger, out } = createLogger();
    const invalid = trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 });
    context.with(trace.setSpan(context.active(), invalid), () => logger.log('invalid'));
    inSpan(() => logger.log('real', { trace_id: 'forged', span_id: 'forged' }));
    const [first, second] = out.records();
    expect(first).not.toHaveProperty('trace_id');
    expect(second).toMatchObject({ trace_id: TRACE_ID, span_id: SPAN_ID });
  });
});
