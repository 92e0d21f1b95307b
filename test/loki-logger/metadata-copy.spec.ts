import { createLogger } from './helpers.js';

describe('metadata is copied only where redaction changes it', () => {
  it('masks nested sensitive keys and secret text without touching the caller objects', () => {
    const { logger, out } = createLogger({ redactValues: ['s3cr3t-value-1'] });
    const nested = { id: 'u-1', password: 'hunter2', tags: ['a', 'token=abc123'], plain: [1, 2] };
    const meta = { user: nested, note: 'has s3cr3t-value-1 inside', when: new Date(0) };
    const before = structuredClone(meta);
    logger.log('order created', meta, 'Orders');
    expect(meta).toEqual(before);
    const [line] = out.records();
    expect(line).toMatchObject({
      user: { id: 'u-1', password: '[REDACTED]', tags: ['a', 'token=[REDACTED]'], plain: [1, 2] },
      note: 'has [REDACTED] inside',
      when: '1970-01-01T00:00:00.000Z',
    });
    expect(out.text()).not.toContain('hunter2');
    expect(out.text()).not.toContain('abc123');
  });

  it('writes unchanged metadata as JSON.stringify would, cycles and depth included', () => {
    const { logger, out } = createLogger();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const meta = { order: { id: 7, items: [{ sku: 'x', qty: 2 }] }, cyclic, fn: () => 1 };
    logger.log('shapes', meta);
    const [line] = out.records();
    expect(line!.order).toEqual({ id: 7, items: [{ sku: 'x', qty: 2 }] });
    expect(line!.cyclic).toEqual({ name: 'loop', self: '[Circular]' });
    expect('fn' in line!).toBe(false);
  });
});
