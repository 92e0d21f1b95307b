import 'reflect-metadata';
import { ConsoleLogger, Controller, Get, Logger, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { defineSecrets, SecretsModule } from '@bastion/secrets';
import { LokiLogger, LokiLoggerModule, type LokiLoggerModuleOptions } from '@bastion/loki-logger';
import { CaptureStream } from './helpers.js';

const SECRET_ENV = 'BOOT_WARNINGS_SPEC_TOKEN';
const SECRET = 'boot-warnings-secret-value-1';
const secrets = defineSecrets([{ name: 'api_token', env: SECRET_ENV }] as const);

const NO_SOURCE = /^No SecretRedactionSource is visible to LokiLoggerModule/;
const BUFFER_HINT = /Pass \{ bufferLogs: true \} to NestFactory\.create.*createBootstrapLogger/;

/** Boots the logger next to SecretsModule; the no-source warnings written and whether the secret leaked. */
async function boot(isGlobal: boolean, extra: Partial<LokiLoggerModuleOptions> = {}) {
  const out = new CaptureStream();
  const moduleRef = await Test.createTestingModule({
    imports: [
      SecretsModule.forRoot({ secrets, isGlobal, directory: '/nonexistent' }),
      LokiLoggerModule.forRoot({ service: 'orders', env: 'test', stream: out, ...extra }),
    ],
  }).compile();
  await moduleRef.init();
  moduleRef.get(LokiLogger).log(`token ${SECRET}`);
  await moduleRef.close();
  const records = out.records();
  return {
    warnings: records.filter((r) => NO_SOURCE.test(String(r.message))),
    leaked: records.some((r) => String(r.message).includes(SECRET)),
  };
}

describe('boot warning: no redaction source', () => {
  beforeAll(() => {
    process.env[SECRET_ENV] = SECRET;
  });
  afterAll(() => {
    delete process.env[SECRET_ENV];
  });

  it('SecretsModule not global: exactly one warn line, saying how to turn redaction on', async () => {
    const { warnings, leaked } = await boot(false);
    expect(leaked).toBe(true); // what the warning is about: the registry is not seen
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', context: 'LokiLogger', service: 'orders' });
    expect(String(warnings[0]!.message)).toContain('SecretsModule.forRoot({ secrets, isGlobal: true })');
    expect(String(warnings[0]!.message)).toContain('warnIfNoRedactionSource: false');
  });

  it('SecretsModule global: no warning (and the value is masked)', async () => {
    const { warnings, leaked } = await boot(true);
    expect(leaked).toBe(false);
    expect(warnings).toHaveLength(0);
  });

  it('silenced with warnIfNoRedactionSource: false', async () => {
    const { warnings } = await boot(false, { warnIfNoRedactionSource: false });
    expect(warnings).toHaveLength(0);
  });
});

@Controller()
class PingController {
  @Get('ping')
  ping(): string {
    return 'pong';
  }
}

describe('boot hint: bufferLogs', () => {
  let app: INestApplication | undefined;
  const out = new CaptureStream();

  @Module({
    imports: [LokiLoggerModule.forRoot({ service: 'orders', stream: out, warnIfNoRedactionSource: false })],
    controllers: [PingController],
  })
  // oxlint-disable-next-line no-extraneous-class -- a Nest module is declared by its decorator
  class AppModule {}

  beforeEach(() => {
    // Each app starts from Nest's default console logger, as in a fresh process (Test.createTestingModule
    // above, and the app before, replaced it).
    Logger.overrideLogger(new ConsoleLogger());
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    out.chunks.length = 0;
  });

  /** Boots as a main.ts does; what Nest's console logger printed (instead of the terminal) is returned. */
  async function bootAndListen(bufferLogs: boolean): Promise<string> {
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      app = await NestFactory.create(AppModule, bufferLogs ? { bufferLogs: true } : {});
    } finally {
      process.stdout.write = write;
    }
    const logger = app.get(LokiLogger);
    app.useLogger(logger);
    await app.listen(0, '127.0.0.1');
    logger.log('first own line');
    logger.warn('second own line');
    return printed.join('');
  }

  it('without bufferLogs: the boot lines were coloured text, and exactly one JSON hint follows', async () => {
    const printed = await bootAndListen(false);
    expect(printed).toContain('Starting Nest application'); // what the user saw: not JSON
    const hints = out.records().filter((r) => BUFFER_HINT.test(String(r.message)));
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatchObject({ level: 'warn', context: 'LokiLogger', service: 'orders' });
  });

  it('with bufferLogs: the boot lines are JSON through the logger, and no hint', async () => {
    const printed = await bootAndListen(true);
    expect(printed).not.toContain('Starting Nest application');
    const records = out.records();
    expect(records.some((r) => r.message === 'Starting Nest application...')).toBe(true);
    expect(records.filter((r) => BUFFER_HINT.test(String(r.message)))).toHaveLength(0);
  });
});
