import 'reflect-metadata';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { defineSecrets, SecretsModule, SecretsService } from '@bastion/secrets';
import { LokiLogger, LokiLoggerConfigError, LokiLoggerModule } from '@bastion/loki-logger';
import { FakeLoki } from '../fake-loki/fake-loki.js';
import { CaptureStream, createLogger } from './helpers.js';

const PASSWORD_ENV = 'LOKI_AUTH_SPEC_PASSWORD';
const secrets = defineSecrets([{ name: 'loki_password', env: PASSWORD_ENV }] as const);

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('Loki credentials', () => {
  let fake: FakeLoki;

  beforeAll(async () => {
    fake = await FakeLoki.start();
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => {
    delete process.env[PASSWORD_ENV];
  });

  /** The README's options, verbatim in shape: username from config, password read per push from secrets. */
  async function pushReadmeShaped(env: { LOKI_USERNAME?: string; password?: string }) {
    if (env.password !== undefined) process.env[PASSWORD_ENV] = env.password;
    const diagnostics = new CaptureStream();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [() => (env.LOKI_USERNAME === undefined ? {} : { LOKI_USERNAME: env.LOKI_USERNAME })],
        }),
        SecretsModule.forRoot({ secrets, isGlobal: true, directory: '/nonexistent' }),
        LokiLoggerModule.forRootAsync({
          inject: [ConfigService, SecretsService],
          useFactory: (config: ConfigService, registry: SecretsService<'loki_password'>) => ({
            service: 'orders',
            stream: new CaptureStream(),
            loki: {
              url: fake.url,
              username: config.get('LOKI_USERNAME'),
              password: () => registry.get('loki_password'),
              diagnostics,
            },
          }),
        }),
      ],
    }).compile();
    await moduleRef.init();
    const logger = moduleRef.get(LokiLogger);
    const before = fake.pushes.length;
    logger.log('hello');
    expect(await logger.flush(3000)).toBe(true);
    await moduleRef.close();
    return { push: fake.pushes[before]!, diagnostics: diagnostics.text() };
  }

  it('sends no Authorization header when the README example runs with username and password unset', async () => {
    const { push, diagnostics } = await pushReadmeShaped({});
    expect(push.status).toBe(204);
    expect(push.headers.authorization).toBeUndefined(); // was `Basic Og==` (":" in base64)
    expect(diagnostics).toBe(''); // auth simply not configured: nothing to report
  });

  it('sends Basic auth when the README example runs with both set', async () => {
    const { push } = await pushReadmeShaped({ LOKI_USERNAME: 'loki-user', password: 'pw-from-secret-1' });
    expect(push.headers.authorization).toBe(basic('loki-user', 'pw-from-secret-1'));
  });

  it('a half-present credential at push time: no header, one rate-limited report without the value', async () => {
    // username set, password function returning nothing (secret missing).
    let current: string | undefined;
    const noPassword = createLogger({ loki: { url: fake.url, username: 'u', password: () => current } });
    noPassword.logger.log('one');
    await noPassword.logger.flush(3000);
    noPassword.logger.log('two');
    await noPassword.logger.flush(3000);
    expect(fake.pushes.slice(-2).map((p) => p.headers.authorization)).toEqual([undefined, undefined]);
    expect(noPassword.diagnostics.text().match(/loki\.password returned no value/g)).toHaveLength(1);

    // The secret appears later (rotation): it is used from the next push on, and followed again.
    current = 'rotated-in-1';
    noPassword.logger.log('three');
    await noPassword.logger.flush(3000);
    current = 'rotated-in-2';
    noPassword.logger.log('four');
    await noPassword.logger.flush(3000);
    expect(fake.pushes.slice(-2).map((p) => p.headers.authorization)).toEqual([
      basic('u', 'rotated-in-1'),
      basic('u', 'rotated-in-2'),
    ]);
    await noPassword.logger.onApplicationShutdown();

    // A password but no username: never `Basic :password`.
    const noUser = createLogger({ loki: { url: fake.url, password: () => 'orphan-pass-1' } });
    noUser.logger.log('five');
    await noUser.logger.flush(3000);
    expect(fake.pushes.at(-1)!.headers.authorization).toBeUndefined();
    const text = noUser.diagnostics.text();
    expect(text).toMatch(/loki\.username is empty/);
    expect(text).not.toContain('orphan-pass-1');
    await noUser.logger.onApplicationShutdown();
  });

  /** The problems of the config error the logger throws for these `loki` options. */
  const problems = (loki: Record<string, unknown>): readonly string[] => {
    try {
      createLogger({ loki: { url: fake.url, ...loki } });
    } catch (err) {
      expect(err).toBeInstanceOf(LokiLoggerConfigError);
      expect((err as Error).message).not.toContain('static-pass-1');
      return (err as LokiLoggerConfigError).problems;
    }
    throw new Error('expected a LokiLoggerConfigError');
  };

  it('refuses a static half-credential at boot with a typed error naming the option, never the value', () => {
    expect(problems({ password: 'static-pass-1' })).toEqual([
      expect.stringMatching(/^loki\.password is set but loki\.username is empty.*e\.g\. '123456'/),
    ]);
    expect(problems({ username: 'u' })).toEqual([
      expect.stringMatching(/^loki\.username is set but loki\.password is missing/),
    ]);
    expect(problems({ username: 'u', password: '' })).toHaveLength(1);
    // Nothing set, or empty strings (an unset env var read as ''): no auth, no error.
    expect(() => createLogger({ loki: { url: fake.url, username: '', password: '' } })).not.toThrow();
  });
});
