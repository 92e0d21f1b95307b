import { SecretsModule, SecretsService } from '@bastion/secrets';
import { CaptureLogger } from './support/capture-logger.js';
import { boot, rejectionOf, SecretsSandbox } from './support/secrets-sandbox.js';

describe('production guard on the plain-env fallback', () => {
  let sandbox: SecretsSandbox;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    sandbox.env({
      NODE_ENV: 'production',
      SESSION_SECRET: 'env-session-value',
      LOKI_PASSWORD: 'env-loki-value',
    });
  });
  afterEach(() => sandbox.cleanup());

  it('ignores <ENV> in production: a required secret fails boot and the error says why', async () => {
    const logger = new CaptureLogger();
    const error = await rejectionOf(
      boot(
        SecretsModule.forRoot({
          directory: sandbox.dir,
          secrets: [{ name: 'session_secret', required: true }],
        }),
        logger,
      ),
    );
    expect((error as Error).message).toContain(
      'env SESSION_SECRET (set, but ignored: the plain-env fallback is off when NODE_ENV=production)',
    );
    expect(`${(error as Error).message}\n${logger.text}`).not.toContain('env-session-value');
  });

  it('ignores <ENV> in production for an optional secret, with a warning', async () => {
    const logger = new CaptureLogger();
    const app = await boot(
      SecretsModule.forRoot({ directory: sandbox.dir, secrets: [{ name: 'loki_password' }] }),
      logger,
    );
    expect(app.get(SecretsService).get('loki_password')).toBeUndefined();
    expect(logger.byLevel('warn').join('\n')).toMatch(/"loki_password" not loaded: the env var is set but/);
    await app.close();
  });

  it('still reads <ENV>_FILE in production (it is a file)', async () => {
    sandbox.env({ SESSION_SECRET: undefined, SESSION_SECRET_FILE: sandbox.file('mounted/s', 'file-value') });
    const app = await boot(
      SecretsModule.forRoot({
        directory: sandbox.dir,
        secrets: [{ name: 'session_secret', required: true }],
      }),
    );
    expect(app.get(SecretsService).get('session_secret')).toBe('file-value');
    await app.close();
  });

  it('uses <ENV> when the app opts in, and warns exactly once for all such secrets', async () => {
    const logger = new CaptureLogger();
    const app = await boot(
      SecretsModule.forRoot({
        directory: sandbox.dir,
        allowEnvFallback: true,
        secrets: [{ name: 'session_secret', required: true }, { name: 'loki_password' }],
      }),
      logger,
    );
    const service = app.get(SecretsService);
    expect(service.get('session_secret')).toBe('env-session-value');
    service.get('session_secret');
    const warnings = logger.byLevel('warn').filter((w) => w.includes('NODE_ENV=production'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"session_secret", "loki_password"');
    await app.close();
  });

  it('does not warn about env use outside production', async () => {
    sandbox.env({ NODE_ENV: 'development' });
    const logger = new CaptureLogger();
    const app = await boot(
      SecretsModule.forRoot({ directory: sandbox.dir, secrets: [{ name: 'session_secret' }] }),
      logger,
    );
    expect(app.get(SecretsService).get('session_secret')).toBe('env-session-value');
    expect(logger.byLevel('warn')).toEqual([]);
    await app.close();
  });
});
