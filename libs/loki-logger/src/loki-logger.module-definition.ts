import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { LokiLoggerModuleOptions } from './loki-logger-options.interface.js';

export const {
  ConfigurableModuleClass: LokiLoggerConfigurableModule,
  MODULE_OPTIONS_TOKEN: LOKI_LOGGER_OPTIONS,
  OPTIONS_TYPE: LOKI_LOGGER_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: LOKI_LOGGER_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LokiLoggerModuleOptions>({ moduleName: 'LokiLogger' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createLokiLoggerOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
