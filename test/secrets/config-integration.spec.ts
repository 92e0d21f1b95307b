import { inspect } from 'node:util';
import { SecretsLoadError } from '@bastion/secrets';
import { registerSecretsConfig } from '@bastion/secrets/config';
import { Inject, Injectable } from '@nestjs/common';
import { ConfigModule, ConfigService, type ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { CaptureLogger } from './support/capture-logger.js';
import { rejectionOf, SecretsSandbox } from './support/secrets-sandbox.js';

describe('@nestjs/config integration (registerAs namespace)', () => {
  let sandbox: SecretsSandbox;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    sandbox.env({ NODE_ENV: 'development', SENTINEL_PASSWORD: 'sentinel-from-env' });
  });
  afterEach(() => sandbox.cleanup());

  it('serves ConfigService.get("secrets.<name>") and ConfigType injection without touching process.env', async () => {
    sandbox.file('redis_password', 'redis pw with spaces \n');
    sandbox.file('der_key', Buffer.from([1, 2, 3]));
    const secretsConfig = registerSecretsConfig({
      directory: sandbox.dir,
      secrets: [
        { name: 'redis_password', required: true },
        { name: 'sentinel_password' },
        { name: 'der_key', encoding: 'buffer' },
        { name: 'loki_password' },
      ],
    });

    @Injectable()
    class Consumer {
      constructor(@Inject(secretsConfig.KEY) readonly secrets: ConfigType<typeof secretsConfig>) {}
    }
    const AppModule = {
      imports: [ConfigModule.forRoot({ load: [secretsConfig], ignoreEnvFile: true })],
      providers: [Consumer],
    };

    const envBefore = JSON.stringify(process.env);
    const app = await NestFactory.createApplicationContext(AppModule, {
      logger: new CaptureLogger(),
      abortOnError: false,
    });
    const config = app.get(ConfigService);
    expect(config.get('secrets.redis_password')).toBe('redis pw with spaces ');
    expect(config.get('secrets.sentinel_password')).toBe('sentinel-from-env');
    expect(config.get('secrets.loki_password')).toBeUndefined();
    expect(config.getOrThrow<Buffer>('secrets.der_key').equals(Buffer.from([1, 2, 3]))).toBe(true);
    const typed: string | undefined = app.get(Consumer).secrets.redis_password;
    expect(typed).toBe('redis pw with spaces ');
    expect(JSON.stringify(process.env)).toBe(envBefore);

    const namespace = config.get('secrets');
    expect(JSON.stringify(namespace)).not.toContain('redis pw');
    expect(inspect(namespace)).toBe(
      'SecretsConfig(redis_password, sentinel_password, der_key, loki_password)',
    );
    expect(Object.keys(namespace)).toEqual([]);
    await app.close();
  });

  it('fails boot with the same aggregated error when a required secret is missing', async () => {
    const secretsConfig = registerSecretsConfig(
      { directory: sandbox.dir, secrets: [{ name: 'session_secret', required: true }] },
      'creds',
    );
    const AppModule = { imports: [ConfigModule.forRoot({ load: [secretsConfig], ignoreEnvFile: true })] };
    const error = await rejectionOf(
      NestFactory.createApplicationContext(AppModule, {
        logger: new CaptureLogger(),
        abortOnError: false,
      }),
    );
    expect(error).toBeInstanceOf(SecretsLoadError);
    expect((error as Error).message).toContain('"session_secret" is required but not found');
  });
});
