import { ConfigurableModuleBuilder } from '@nestjs/common';
import { SECRETS_MODULE_OPTIONS } from './secrets.constants.js';
import type { SecretsModuleOptions } from './secrets-options.interface.js';

export const { ConfigurableModuleClass, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<SecretsModuleOptions>({
    moduleName: 'Secrets',
    optionsInjectionToken: SECRETS_MODULE_OPTIONS,
  })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createSecretsOptions')
    // isGlobal is a module-level flag, kept out of the options object the providers see.
    .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();

/** Argument of `SecretsModule.forRoot()`: the options plus the extra `isGlobal` (default `false`). */
export type SecretsModuleForRootOptions = typeof OPTIONS_TYPE;
/** Argument of `SecretsModule.forRootAsync()`: `imports`, `inject`, `useFactory` / `useClass` / `useExisting`, plus `isGlobal`. */
export type SecretsModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;

/** What a `forRootAsync({ useClass })` or `useExisting` class implements. */
export interface SecretsOptionsFactory {
  createSecretsOptions(): SecretsModuleOptions | Promise<SecretsModuleOptions>;
}
