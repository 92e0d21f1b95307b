import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  LOKI_LOGGER_MODULE_OPTIONS,
  LOKI_LOGGER_OPTIONS,
  LokiLogger,
  LokiLoggerModule,
  type LokiLoggerModuleAsyncOptions,
  type LokiLoggerModuleOptions,
  type LokiLoggerOptionsFactory,
} from '@bastion/loki-logger';
import { CaptureStream } from './helpers.js';

describe('LokiLoggerModule public shape', () => {
  it('useClass factories implement LokiLoggerOptionsFactory; the options token gives the options as given', async () => {
    const stream = new CaptureStream();
    @Injectable()
    class LoggerOptions implements LokiLoggerOptionsFactory {
      createLokiLoggerOptions(): LokiLoggerModuleOptions {
        return { service: 'shape', env: 'test', stream, warnIfNoRedactionSource: false };
      }
    }
    @Module({ providers: [LoggerOptions], exports: [LoggerOptions] })
    class OptionsModule {
      readonly kind = 'options';
    }
    const async: LokiLoggerModuleAsyncOptions = { imports: [OptionsModule], useExisting: LoggerOptions };
    const moduleRef = await Test.createTestingModule({
      imports: [LokiLoggerModule.forRootAsync(async)],
    }).compile();
    expect(moduleRef.get(LOKI_LOGGER_MODULE_OPTIONS)).toMatchObject({ service: 'shape', env: 'test' });
    expect(LOKI_LOGGER_OPTIONS).toBe(LOKI_LOGGER_MODULE_OPTIONS); // the deprecated name, same token
    const logger = moduleRef.get(LokiLogger);
    logger.log('hello');
    expect(stream.records()[0]).toMatchObject({ message: 'hello', service: 'shape' });
    // Shipping off: no counters; the deprecated name answers the same.
    expect(logger.stats()).toBeUndefined();
    expect(logger.lokiStats()).toBeUndefined();
    expect(JSON.parse(JSON.stringify(logger))).toEqual({ service: 'shape', env: 'test', level: 'info' });
    await moduleRef.close();
  });
});
