import { SecretsLoadError, SecretsModule } from '@bastion/secrets';
import { CaptureLogger } from './support/capture-logger.js';
import { boot, rejectionOf, SecretsSandbox } from './support/secrets-sandbox.js';

describe('boot error', () => {
  let sandbox: SecretsSandbox;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    sandbox.env({ NODE_ENV: 'development', REDIS_PASSWORD: undefined, REDIS_PASSWORD_FILE: undefined });
  });
  afterEach(() => sandbox.cleanup());

  it('reports three missing required secrets in ONE error naming each one and every place looked at', async () => {
    sandbox.file('present', 'fine');
    const logger = new CaptureLogger();
    const error = await rejectionOf(
      boot(
        SecretsModule.forRoot({
          directory: sandbox.dir,
          secrets: [
            { name: 'redis_password', required: true },
            { name: 'session_secret', required: true, env: 'APP_SESSION' },
            { name: 'tls_key', required: true, env: false },
            { name: 'present', required: true },
            { name: 'optional_one' },
          ],
        }),
        logger,
      ),
    );

    expect(error).toBeInstanceOf(SecretsLoadError);
    const problems = (error as SecretsLoadError).problems;
    expect(problems.map((p) => p.name)).toEqual(['redis_password', 'session_secret', 'tls_key']);
    expect(problems.every((p) => p.kind === 'missing')).toBe(true);
    const message = (error as Error).message;
    expect(message.split('\n')[0]).toBe('3 secrets could not be loaded:');
    expect(message).toContain(
      `"redis_password" is required but not found; looked at: file ${sandbox.dir}/redis_password (not found), ` +
        'env REDIS_PASSWORD_FILE (not set), env REDIS_PASSWORD (not set)',
    );
    expect(message).toContain(
      `file ${sandbox.dir}/session_secret (not found), env APP_SESSION_FILE (not set), env APP_SESSION (not set)`,
    );
    expect(message).toContain(
      `"tls_key" is required but not found; looked at: file ${sandbox.dir}/tls_key (not found)`,
    );
    expect(message).not.toContain('optional_one');
    expect(message).not.toContain('fine');
  });

  it('puts missing and invalid secrets in the same error', async () => {
    sandbox.file('too_big', 'x'.repeat(20));
    const error = await rejectionOf(
      boot(
        SecretsModule.forRoot({
          directory: sandbox.dir,
          secrets: [
            { name: 'too_big', maxBytes: 10 },
            { name: 'gone', required: true },
          ],
        }),
      ),
    );
    expect(error).toBeInstanceOf(SecretsLoadError);
    expect((error as SecretsLoadError).problems.map((p) => [p.name, p.kind])).toEqual([
      ['too_big', 'invalid'],
      ['gone', 'missing'],
    ]);
  });
});
