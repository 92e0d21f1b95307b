import 'reflect-metadata';
import { unlinkSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { LokiLogger, LokiLoggerModule } from '@bastion/loki-logger';
import { SecretsHealthIndicator, SecretsModule } from '@bastion/secrets';
import { vi } from 'vitest';
import { SecretsSandbox } from './support/secrets-sandbox.js';

const REDIS_PASSWORD = 'R3dis-pw-Kq7vX2mN';
const API_TOKEN = 'Api-tok-Hs9wL4pQ';

describe('secrets health failure, as Terminus logs it through the JSON logger', () => {
  let sandbox: SecretsSandbox;
  let app: INestApplication | undefined;
  let stdout: string[];

  beforeEach(() => {
    sandbox = new SecretsSandbox();
    sandbox.env({ NODE_ENV: 'development', LOG_FORMAT: undefined, API_TOKEN, API_TOKEN_FILE: undefined });
    stdout = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
  });
  afterEach(async () => {
    await app?.close();
    vi.restoreAllMocks();
    sandbox.cleanup();
  });

  it('keeps the secret names and source types readable, and the values masked', async () => {
    sandbox.file('redis_password', REDIS_PASSWORD);

    @Controller('health')
    class HealthController {
      constructor(
        private readonly health: HealthCheckService,
        private readonly secrets: SecretsHealthIndicator,
      ) {}

      @Get('ready')
      @HealthCheck()
      ready() {
        return this.health.check([() => this.secrets.isHealthy('secrets')]);
      }
    }
    @Module({
      imports: [
        TerminusModule,
        SecretsModule.forRoot({
          isGlobal: true,
          directory: sandbox.dir,
          secrets: [{ name: 'redis_password', required: true }, { name: 'api_token' }, { name: 'tls_key' }],
        }),
        LokiLoggerModule.forRoot({ service: 'health-test', env: 'test' }),
      ],
      controllers: [HealthController],
    })
    // oxlint-disable-next-line no-extraneous-class -- a Nest module is declared by its decorator
    class AppModule {}

    app = await NestFactory.create(AppModule, { bufferLogs: true, abortOnError: false });
    const logger = app.get(LokiLogger);
    app.useLogger(logger);
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/health/ready`;
    expect((await fetch(url)).status).toBe(200);

    unlinkSync(`${sandbox.dir}/redis_password`);
    const response = await fetch(url);
    expect(response.status).toBe(503);
    const details = {
      status: 'down',
      sources: { directory: ['redis_password'], env: ['api_token'], 'not loaded': ['tls_key'] },
      unreadable: ['redis_password'],
    };
    const body = (await response.json()) as { details: unknown };

    // Values under sensitive keys and loaded secret values elsewhere stay masked in the same logger.
    logger.warn('reconnecting', { password: 'plain-meta-pw', note: `token was ${API_TOKEN}` });

    const lines = stdout
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const failed = lines.find((l) => String(l.message).startsWith('Health Check has failed!'));
    expect(failed).toMatchObject({ level: 'error', service: 'health-test' });
    const message = failed!.message as string;
    expect(message).not.toContain('[REDACTED]');
    expect(JSON.parse(message.slice(message.indexOf('{')))).toEqual({ secrets: details });
    expect(body.details).toEqual({ secrets: details });

    expect(lines.at(-1)).toMatchObject({
      message: 'reconnecting',
      password: '[REDACTED]',
      note: 'token was [REDACTED]',
    });
    const all = stdout.join('');
    expect(all).not.toContain(REDIS_PASSWORD);
    expect(all).not.toContain(API_TOKEN);
    expect(all).not.toContain('plain-meta-pw');
  });
});
