import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { Registry } from 'prom-client';

/** Options of `LokiLoggerMetricsModule.forRoot()`. */
export interface LokiLoggerMetricsOptions {
  /**
   * Where the metrics are registered. Default: prom-client's default registry (`register`), the
   * one `collectDefaultMetrics()` and most `/metrics` endpoints use.
   */
  readonly registry?: Registry;
}

export const {
  ConfigurableModuleClass: LokiLoggerMetricsConfigurableModule,
  MODULE_OPTIONS_TOKEN: LOKI_LOGGER_METRICS_OPTIONS,
} = new ConfigurableModuleBuilder<LokiLoggerMetricsOptions>({ moduleName: 'LokiLoggerMetrics' })
  .setClassMethodName('forRoot')
  .build();
