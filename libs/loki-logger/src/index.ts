export { LokiLoggerModule } from './loki-logger.module.js';
export type {
  LokiLoggerModuleAsyncOptions,
  LokiLoggerModuleForRootOptions,
  LokiLoggerOptionsFactory,
} from './loki-logger.module-definition.js';
export { LOKI_LOGGER_OPTIONS } from './loki-logger.module-definition.js';
export { LOKI_LOGGER_MODULE_OPTIONS } from './loki-logger.constants.js';
export type {
  LokiLoggerModuleOptions,
  LokiShippingOptions,
  RequestContextOptions,
  LokiLoggerFormat,
  LokiEncoding,
  StructuredMetadataMode,
} from './loki-logger-options.interface.js';
export { LOKI_LOG_LEVELS, type LokiLogLevel } from './log-levels.js';
export { LokiLogger } from './loki-logger.service.js';
export { LokiLoggerConfigError } from './loki-logger.errors.js';
export {
  createBootstrapLogger,
  BootstrapLogger,
  DEFAULT_EXPECTED_BOOT_ERRORS,
  type BootstrapLoggerOptions,
  type BootErrorMatcher,
} from './bootstrap-logger.js';
export {
  LokiTransport,
  type LokiTransportIdentity,
  type LokiPushOutcome,
  type LokiPushListener,
} from './loki.transport.js';
export type { LokiShipperStats, LokiDropCounts } from './loki-shipper-stats.js';
export type { StdoutStats } from './stdout-destination.js';
export { LokiHealthIndicator, type LokiHealthOptions } from './loki-logger-health.indicator.js';
export { RequestContextMiddleware } from './request-context.middleware.js';
export {
  runWithLogContext,
  getLogContext,
  setLogContextUserId,
  assignLogContext,
  type LogContextInit,
  type LogContextState,
} from './log-context.js';
export { SECRET_REDACTION_SOURCE, type SecretRedactionSource } from './secret-redaction-source.js';
export { DEFAULT_REDACT_KEYS } from './secret-redactor.js';
export type { LineRecord, SerializedError } from './log-line.format.js';
