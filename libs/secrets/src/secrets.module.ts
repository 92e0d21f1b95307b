import { Module } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { SECRET_STORE } from './secrets.constants.js';
import { SecretRedactionSource } from './secret-redaction-source.js';
import { assertValidDeclarations, resolveSecretsOptions } from './resolved-secrets-options.js';
import { SecretStore } from './secret-store.js';
import { SecretsHealthIndicator } from './secrets-health.indicator.js';
import type { SecretsModuleOptions } from './secrets-module-options.interface.js';
import { SecretsService } from './secrets.service.js';
import { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE } from './secrets.module-definition.js';

/**
 * Loads the declared secrets before any provider that injects `SecretsService` is built (the load is
 * an async provider), failing boot with one `SecretsLoadError` listing every problem.
 *
 * Provides `SecretsService`, `SecretRedactionSource` (for loggers) and `SecretsHealthIndicator`.
 */
@Module({
  providers: [
    {
      provide: SECRET_STORE,
      useFactory: (options: SecretsModuleOptions) => SecretStore.load(resolveSecretsOptions(options)),
      inject: [MODULE_OPTIONS_TOKEN],
    },
    SecretsService,
    { provide: SecretRedactionSource, useExisting: SecretsService },
    // Terminus's stateless result builder, provided here so the indicator works without importing
    // TerminusModule into this module.
    HealthIndicatorService,
    SecretsHealthIndicator,
  ],
  exports: [SecretsService, SecretRedactionSource, SecretsHealthIndicator],
})
export class SecretsModule extends ConfigurableModuleClass {
  /** Validates the declarations right here, so a bad name fails where it is written. */
  static override forRoot(options: typeof OPTIONS_TYPE) {
    assertValidDeclarations(options.secrets);
    return super.forRoot(options);
  }
}
