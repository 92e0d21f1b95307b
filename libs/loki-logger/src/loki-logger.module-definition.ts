import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { LokiLoggerModuleOptions } from './loki-logger-options.interface.js';
import { LOKI_LOGGER_MODULE_OPTIONS } from './loki-logger.constants.js';

export const {
  ConfigurableModuleClass: LokiLoggerConfigurableModule,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LokiLoggerModuleOptions>({
  moduleName: 'LokiLogger',
  optionsInjectionToken: LOKI_LOGGER_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createLokiLoggerOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** Argument of `LokiLoggerModule.forRoot()`: the options plus the extra `isGlobal` (default `false`). */
export type LokiLoggerModuleForRootOptions = typeof OPTIONS_TYPE;
/** Argument of `LokiLoggerModule.forRootAsync()`: `imports`, `inject`, `useFactory` / `useClass` / `useExisting`, plus `isGlobal`. */
export type LokiLoggerModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;

/** What a `forRootAsync({ useClass })` or `useExisting` class implements. */
export interface LokiLoggerOptionsFactory {
  createLokiLoggerOptions(): LokiLoggerModuleOptions | Promise<LokiLoggerModuleOptions>;
}

/** @deprecated Use `LOKI_LOGGER_MODULE_OPTIONS` (the same token). */
export const LOKI_LOGGER_OPTIONS = LOKI_LOGGER_MODULE_OPTIONS;
