export { LokiLoggerModule } from './loki-logger.module.js';
export {
  LOKI_LOGGER_OPTIONS,
  LOKI_LOGGER_OPTIONS_TYPE,
  LOKI_LOGGER_ASYNC_OPTIONS_TYPE,
} from './loki-logger.module-definition.js';
export type {
  LokiLoggerModuleOptions,
  LokiShippingOptions,
  RequestContextOptions,
  LokiLoggerFormat,
  LokiLogLevel,
  LokiEncoding,
  StructuredMetadataMode,
} from './loki-logger-options.interface.js';
export { LokiLogger, LOKI_LOG_LEVELS } from './loki-logger.service.js';
export { LokiLoggerConfigError } from './loki-logger.errors.js';
export {
  createBootstrapLogger,
  BootstrapLogger,
  DEFAULT_EXPECTED_BOOT_ERRORS,
  type BootstrapLoggerOptions,
  type BootErrorMatcher,
} from './bootstrap-logger.js';
export { LokiTransport } from './loki.transport.js';
export type { LokiShipperStats, LokiDropCounts } from './loki-shipper-stats.js';
export { LokiHealthIndicator, type LokiHealthOptions } from './loki-health.indicator.js';
export { RequestContextMiddleware } from './request-context.middleware.js';
export {
  runWithLogContext,
  getLogContext,
  setLogContextUserId,
  assignLogContext,
  type LogContextInit,
  type LogContextState,
} from './log-context.js';
export { DEFAULT_REDACT_KEYS } from './secret-redactor.js';
export type { LineRecord, SerializedError } from './log-line.format.js';
