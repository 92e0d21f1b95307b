import { Writable } from 'node:stream';
import { LokiLoggerConfigError } from '@bastion/loki-logger';
import {
  LOKI_SHIPPING_DEFAULTS,
  resolveLokiLoggerOptions,
  resolveLokiShippingOptions,
} from '../../libs/loki-logger/src/loki-logger-options.resolver.js';

const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });

describe('resolveLokiLoggerOptions (unit)', () => {
  it('applies every default, once, into a frozen object', () => {
    const resolved = resolveLokiLoggerOptions({ service: 'orders', env: 'test', stream: sink });
    expect(resolved).toMatchObject({
      service: 'orders',
      env: 'test',
      level: 'info',
      format: process.env.LOG_FORMAT === 'pretty' ? 'pretty' : 'json',
      colors: false,
      redactCensor: '[REDACTED]',
      minRedactLength: 4,
      warnIfNoRedactionSource: true,
      requestContext: {
        enabled: true,
        header: 'x-request-id',
        logRequests: true,
        excludeFromRequestLog: ['/health*'],
      },
      loki: undefined,
    });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(Object.isFrozen(resolved.requestContext)).toBe(true);
    // A resolved object given again (the module's provider, then `new LokiLogger(resolved)`) is kept.
    expect(resolveLokiLoggerOptions(resolved)).toBe(resolved);
  });

  it('takes undefined as "use the default" and the push path as part of the URL', () => {
    const loki = resolveLokiShippingOptions(
      { url: 'http://loki:3100/loki/api/v1/push/', batchMaxEntries: undefined, labels: { region: 'eu' } },
      { service: 'orders', env: 'test' },
    );
    expect(loki).toMatchObject({
      url: 'http://loki:3100',
      labels: { service_name: 'orders', env: 'test', region: 'eu' },
      ...LOKI_SHIPPING_DEFAULTS,
      encoding: 'json',
      gzip: true,
      structuredMetadata: 'auto',
      levelLabel: false,
    });
    expect(Object.isFrozen(loki)).toBe(true);
  });

  it('throws one LokiLoggerConfigError with every problem, the service one first', () => {
    let error: unknown;
    try {
      resolveLokiLoggerOptions({ level: 'loud' as never, stream: {} as never } as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LokiLoggerConfigError);
    expect((error as LokiLoggerConfigError).problems).toEqual([
      'service is missing; it is the service name on every line and label, e.g. "orders"',
      'level must be one of fatal, error, warn, info, debug, verbose (got "loud"); e.g. "info"',
      'stream must be a writable stream (got an object); e.g. process.stdout',
    ]);
  });
});
