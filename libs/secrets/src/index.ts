export { SecretsModule } from './secrets.module.js';
export type {
  SecretsModuleAsyncOptions,
  SecretsModuleForRootOptions,
  SecretsOptionsFactory,
} from './secrets.module-definition.js';
export type {
  EnvConflictPolicy,
  SecretsModuleOptions,
  SecretsRotationOptions,
} from './secrets-options.interface.js';
export type { SecretDeclaration, SecretValidationResult } from './secret-declaration.interface.js';
export { defineSecrets, type SecretName } from './define-secrets.js';
export { SecretsService } from './secrets.service.js';
export type { SecretsStats, SecretStats } from './secrets-stats.interface.js';
export type { SecretStatus } from './secret-status.interface.js';
export type { SecretSource, SecretSourceType } from './secret-source.js';
export type { SecretEvent, SecretRotatedEvent, SecretRotationFailedEvent } from './secret-event.interface.js';
export { SecretsHealthIndicator, type SecretsHealthOptions } from './secrets-health.indicator.js';
export { SECRET_REDACTION_SOURCE, type SecretRedactionSource } from './secret-redaction-source.js';
export {
  SecretDeclarationError,
  SecretEncodingError,
  SecretNotDeclaredError,
  SecretsConfigError,
} from './secrets.errors.js';
export { SecretNotAvailableError, SecretsLoadError, type SecretLoadProblem } from './secrets-load.error.js';
export { assertValidSecretName } from './secret-name.js';
export {
  DEFAULT_MAX_SECRET_BYTES,
  DEFAULT_SECRETS_DIRECTORY,
  SECRETS_MODULE_OPTIONS,
} from './secrets.constants.js';
