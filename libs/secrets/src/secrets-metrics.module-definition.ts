import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { Registry } from 'prom-client';

/** Options of `SecretsMetricsModule.forRoot()`. */
export interface SecretsMetricsOptions {
  /**
   * Where the metrics are registered. Default: prom-client's default registry (`register`), the
   * one `collectDefaultMetrics()` and most `/metrics` endpoints use.
   */
  readonly registry?: Registry;
}

export const {
  ConfigurableModuleClass: SecretsMetricsConfigurableModule,
  MODULE_OPTIONS_TOKEN: SECRETS_METRICS_OPTIONS,
} = new ConfigurableModuleBuilder<SecretsMetricsOptions>({ moduleName: 'SecretsMetrics' })
  .setClassMethodName('forRoot')
  .build();
