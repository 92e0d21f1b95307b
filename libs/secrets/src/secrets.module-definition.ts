import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SecretsModuleOptions } from './secrets-module-options.interface.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<SecretsModuleOptions>({ moduleName: 'Secrets' })
    .setClassMethodName('forRoot')
    // isGlobal is a module-level flag, kept out of the options object the providers see.
    .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
