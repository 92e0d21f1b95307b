import {
  SECRET_REDACTION_SOURCE,
  SECRETS_MODULE_OPTIONS,
  SecretsModule,
  SecretsService,
  type SecretRedactionSource,
  type SecretsModuleOptions,
  type SecretsOptionsFactory,
} from '@bastion/secrets';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CaptureLogger } from './support/capture-logger.js';
import { SecretsSandbox } from './support/secrets-sandbox.js';

describe('SecretsModule wiring', () => {
  let sandbox: SecretsSandbox;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    sandbox.env({ NODE_ENV: 'development' });
    sandbox.file('redis_password', 'async-value');
  });
  afterEach(() => sandbox.cleanup());

  it('forRootAsync + isGlobal: a provider in another module gets loaded values in its factory', async () => {
    const DIR = 'SECRETS_DIR_TOKEN';
    @Module({ providers: [{ provide: DIR, useValue: sandbox.dir }], exports: [DIR] })
    class PathsModule {
      readonly kind = 'paths';
    }

    @Injectable()
    class RedisOptions {
      readonly password: string | undefined;
      constructor(secrets: SecretsService<'redis_password'>) {
        // Read in the constructor: the async load must already be done.
        this.password = secrets.get('redis_password');
      }
    }
    @Module({ providers: [RedisOptions], exports: [RedisOptions] })
    class FeatureModule {
      readonly kind = 'feature';
    }

    const app = await NestFactory.createApplicationContext(
      {
        imports: [
          SecretsModule.forRootAsync({
            isGlobal: true,
            imports: [PathsModule],
            inject: [DIR],
            useFactory: (directory: string) => ({
              directory,
              secrets: [{ name: 'redis_password', required: true }],
            }),
          }),
          FeatureModule,
        ],
      },
      { logger: new CaptureLogger(), abortOnError: false },
    );
    expect(app.get(RedisOptions).password).toBe('async-value');
    const typed = app.get<SecretsService<'redis_password'>>(SecretsService);
    // @ts-expect-error: with a typed service an undeclared name is a compile error (and a runtime one).
    expect(() => typed.get('redis_pasword')).toThrow('Secret "redis_pasword" is not declared');
    expect(app.get(SECRET_REDACTION_SOURCE)).toBe(app.get(SecretsService));
    expect(app.get<SecretRedactionSource>(SECRET_REDACTION_SOURCE).values()).toEqual(['async-value']);
    await app.close();
  });

  it('forRootAsync with useClass', async () => {
    @Injectable()
    class AppSecretsOptions implements SecretsOptionsFactory {
      constructor(@Inject('DIR') private readonly dir: string) {}
      createSecretsOptions(): SecretsModuleOptions {
        return { directory: this.dir, secrets: [{ name: 'redis_password' }] };
      }
    }
    @Module({ providers: [{ provide: 'DIR', useValue: sandbox.dir }], exports: ['DIR'] })
    class DirModule {
      readonly kind = 'dir';
    }
    const app = await NestFactory.createApplicationContext(
      { imports: [SecretsModule.forRootAsync({ imports: [DirModule], useClass: AppSecretsOptions })] },
      { logger: new CaptureLogger(), abortOnError: false },
    );
    expect(app.get(SecretsService).get('redis_password')).toBe('async-value');
    // The options as the factory gave them, under the exported token.
    expect(app.get(SECRETS_MODULE_OPTIONS)).toEqual({
      directory: sandbox.dir,
      secrets: [{ name: 'redis_password' }],
    });
    await app.close();
  });
});
