import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { Registry } from 'prom-client';

/** Options of `RedisClusterMetricsModule.forRoot()`. */
export interface RedisClusterMetricsOptions {
  /**
   * Where the metrics are registered. Default: prom-client's default registry (`register`), the
   * one `collectDefaultMetrics()` and most `/metrics` endpoints use.
   */
  readonly registry?: Registry;
  /**
   * The `RedisClusterModule` instance to expose: its `connectionName`. Default: the default
   * instance (the one without a `connectionName`). One instance per registry, Sentinel or Cluster:
   * the metric names carry no instance label, so a second instance needs a registry of its own.
   */
  readonly connectionName?: string;
  /**
   * Also time every command of the declared clients (`bastion_redis_command_duration_seconds`).
   * Default false: it wraps each client's `sendCommand`, one clock read and one promise callback per
   * command. Without it (or without this module) commands run untouched.
   */
  readonly commandDurations?: boolean;
}

export const {
  ConfigurableModuleClass: RedisClusterMetricsConfigurableModule,
  MODULE_OPTIONS_TOKEN: REDIS_CLUSTER_METRICS_OPTIONS,
} = new ConfigurableModuleBuilder<RedisClusterMetricsOptions>({ moduleName: 'RedisClusterMetrics' })
  .setClassMethodName('forRoot')
  .build();
