import { Module } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { SECRET_STORE, SECRETS_MODULE_OPTIONS, SECRETS_RESOLVED_OPTIONS } from './secrets.constants.js';
import { SECRET_REDACTION_SOURCE } from './secret-redaction-source.js';
import { resolveSecretsOptions, type ResolvedSecretsOptions } from './secrets-options.resolver.js';
import { SecretStore } from './secret-store.js';
import { SecretsHealthIndicator } from './secrets-health.indicator.js';
import type { SecretsModuleOptions } from './secrets-options.interface.js';
import { SecretsService } from './secrets.service.js';
import { ConfigurableModuleClass, type SecretsModuleForRootOptions } from './secrets.module-definition.js';

/**
 * Loads the declared secrets before any provider that injects `SecretsService` is built (the load is
 * an async provider), failing boot with one `SecretsLoadError` listing every problem.
 *
 * Provides `SecretsService`, the `SecretRedactionSource` under `SECRET_REDACTION_SOURCE` (for
 * loggers) and `SecretsHealthIndicator`.
 */
@Module({
  providers: [
    {
      provide: SECRETS_RESOLVED_OPTIONS,
      useFactory: (options: SecretsModuleOptions) => resolveSecretsOptions(options),
      inject: [SECRETS_MODULE_OPTIONS],
    },
    {
      provide: SECRET_STORE,
      useFactory: (options: ResolvedSecretsOptions) => SecretStore.load(options),
      inject: [SECRETS_RESOLVED_OPTIONS],
    },
    SecretsService,
    { provide: SECRET_REDACTION_SOURCE, useExisting: SecretsService },
    // Terminus's stateless result builder, provided here so the indicator works without importing
    // TerminusModule into this module.
    HealthIndicatorService,
    SecretsHealthIndicator,
  ],
  exports: [SecretsService, SECRET_REDACTION_SOURCE, SecretsHealthIndicator],
})
export class SecretsModule extends ConfigurableModuleClass {
  /** Checks the options right here (every problem at once), so a bad one fails where it is written. */
  static override forRoot(options: SecretsModuleForRootOptions) {
    const { isGlobal: _isGlobal, ...moduleOptions } = options;
    resolveSecretsOptions(moduleOptions);
    return super.forRoot(options);
  }
}
