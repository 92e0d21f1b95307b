import 'reflect-metadata';
import { Inject, Injectable, Logger, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { WINSTON_MODULE_PROVIDER } from 'nest-winston';
import type { Logger as WinstonLogger } from 'winston';
import { LokiLogger, LokiLoggerModule, runWithLogContext } from '@bastion/loki-logger';
import { FakeLoki } from '../fake-loki/fake-loki.js';
import { CaptureStream, createLogger } from './helpers.js';

describe('LokiLoggerModule', () => {
  it('forRootAsync with ConfigService: injectable everywhere with isGlobal, flushes to Loki on app.close()', async () => {
    const fake = await FakeLoki.start();
    const out = new CaptureStream();

    @Injectable()
    class Payments {
      constructor(
        readonly logger: LokiLogger,
        @Inject(WINSTON_MODULE_PROVIDER) readonly winston: WinstonLogger,
      ) {}
    }
    @Module({ providers: [Payments], exports: [Payments] })
    // oxlint-disable-next-line no-extraneous-class -- a Nest module is declared by its decorator
    class PaymentsModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ SERVICE: 'payments', LOKI_URL: fake.url, LOG_LEVEL: 'warn' })],
        }),
        LokiLoggerModule.forRootAsync({
          isGlobal: true,
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            service: config.getOrThrow<string>('SERVICE'),
            env: 'staging',
            level: config.getOrThrow<'warn'>('LOG_LEVEL'),
            stream: out,
            warnIfNoRedactionSource: false, // no secrets in this app: the lines below are exact
            loki: { url: config.getOrThrow<string>('LOKI_URL'), batchIntervalMs: 60_000 },
          }),
        }),
        PaymentsModule,
      ],
    }).compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    const payments = app.get(Payments);
    expect(payments.logger).toBe(app.get(LokiLogger));
    payments.logger.log('below the level'); // info < warn: not written
    payments.logger.warn('charge slow', { ms: 900 }, 'Payments');
    // Raw winston (nest-winston's token) gets the same format, context and redaction.
    runWithLogContext({ requestId: 'w-1' }, () =>
      payments.winston.error('raw winston', { token: 'abc', n: 1 }),
    );
    await app.close();
    const recs = out.records();
    expect(recs.map((r) => r.message)).toEqual(['charge slow', 'raw winston']);
    expect(recs[0]).toMatchObject({
      level: 'warn',
      service: 'payments',
      env: 'staging',
      context: 'Payments',
      ms: 900,
    });
    expect(recs[1]).toMatchObject({ level: 'error', requestId: 'w-1', token: '[REDACTED]', n: 1 });
    // The 60 s batch interval had not elapsed: the lines left with the shutdown flush.
    expect(fake.lines()).toHaveLength(2);
    await fake.close();
  });

  it('follows Nest logger conventions: context last, error(message, stack, context), objects as metadata, fatal', () => {
    const { logger, out } = createLogger({ level: 'verbose' });
    logger.log('plain');
    logger.log('with context', 'Ctx');
    logger.error('failed', 'Error: boom\n    at fn (file.js:1:2)', 'Ctx');
    logger.error('failed without context', 'Error: boom\n    at fn (file.js:1:2)');
    logger.warn({ message: 'object message', a: 1 }, 'Ctx');
    logger.debug('params', { b: 2 }, 42, 'Ctx');
    logger.verbose('verbose');
    logger.fatal('fatal', 'Ctx');
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    logger.log('circular', { circular, big: 10n });
    const recs = out.records();
    expect(recs[0]).toMatchObject({ level: 'info', message: 'plain' });
    expect(recs[0]!.context).toBeUndefined();
    expect(recs[1]).toMatchObject({ message: 'with context', context: 'Ctx' });
    expect(recs[2]).toMatchObject({
      level: 'error',
      context: 'Ctx',
      error: { stack: 'Error: boom\n    at fn (file.js:1:2)' },
    });
    expect(recs[3]!.context).toBeUndefined();
    expect(typeof (recs[3]!.error as { stack: unknown }).stack).toBe('string');
    expect(recs[4]).toMatchObject({ level: 'warn', message: 'object message', a: 1, context: 'Ctx' });
    expect(recs[5]).toMatchObject({ level: 'debug', b: 2, params: [42], context: 'Ctx' });
    expect(recs[6]!.level).toBe('verbose');
    expect(recs[7]).toMatchObject({ level: 'fatal', context: 'Ctx' });
    expect(recs[8]).toMatchObject({ circular: { name: 'loop', self: '[Circular]' }, big: '10' });
    // The line's own fields are never overwritten by metadata.
    logger.log('spoof', { level: 'debug', service: 'other', requestId: 'x' });
    expect(out.records().at(-1)).toMatchObject({ level: 'info', service: 'orders' });
  });

  it('prints a pretty, redacted line in development format, while Loki still gets JSON', async () => {
    const fake = await FakeLoki.start();
    const { logger, out } = createLogger({
      format: 'pretty',
      colors: false,
      redactValues: ['pretty-secret'],
      loki: { url: fake.url },
    });
    runWithLogContext({ requestId: 'req-9' }, () =>
      logger.error('oops pretty-secret', new Error('bad'), 'Ctx'),
    );
    await logger.flush(2000);
    const text = out.text();
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR {3}\[Ctx\] oops \[REDACTED\] req=req-9/);
    expect(text).toContain('\nError: bad\n    at ');
    expect(JSON.parse(fake.lines()[0]!)).toMatchObject({ message: 'oops [REDACTED]', requestId: 'req-9' });
    await logger.onApplicationShutdown();
    await fake.close();
  });

  it('takes the pretty format from LOG_FORMAT=pretty when no format is given', () => {
    const saved = process.env.LOG_FORMAT;
    process.env.LOG_FORMAT = 'pretty';
    try {
      const { logger, out } = createLogger({ colors: false });
      logger.warn('env pretty', 'Ctx');
      expect(out.text()).toMatch(/ WARN {4}\[Ctx\] env pretty\n$/);
    } finally {
      if (saved === undefined) delete process.env.LOG_FORMAT;
      else process.env.LOG_FORMAT = saved;
    }
  });

  it('setLogLevels (Nest logger levels) narrows or widens what is written', () => {
    const { logger, out } = createLogger();
    logger.setLogLevels(['error', 'warn']);
    logger.log('hidden');
    logger.warn('shown');
    logger.setLogLevels(['debug', 'log']);
    logger.debug('debug shown');
    expect(out.records().map((r) => r.message)).toEqual(['shown', 'debug shown']);
    expect(logger.isLevelEnabled('verbose')).toBe(false);
  });

  it('works as the logger of Nest`s static Logger', () => {
    const { logger, out } = createLogger();
    Logger.overrideLogger(logger);
    new Logger('Static').log('via Nest Logger', { k: 'v' });
    Logger.overrideLogger(false);
    expect(out.records()[0]).toMatchObject({ message: 'via Nest Logger', context: 'Static', k: 'v' });
  });
});
