import {
  SecretNotAvailableError,
  SecretNotDeclaredError,
  SecretsLoadError,
  SecretsModule,
  SecretsService,
  type SecretDeclaration,
  SecretEncodingError,
} from '@bastion/secrets';
import { boot, rejectionOf, SecretsSandbox, thrown } from './support/secrets-sandbox.js';

describe('getOrThrow() / get() errors', () => {
  let sandbox: SecretsSandbox;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    sandbox.env({ NODE_ENV: 'development', REDIS_PASSWORD: undefined, REDIS_PASSWORD_FILE: undefined });
  });
  afterEach(() => sandbox.cleanup());

  async function load(secrets: readonly SecretDeclaration[]) {
    const app = await boot(SecretsModule.forRoot({ directory: sandbox.dir, secrets }));
    return { app, service: app.get(SecretsService) };
  }

  it('a missing optional secret: lists every place looked at and how to supply it, like the boot error', async () => {
    const { app, service } = await load([{ name: 'redis_password' }, { name: 'tls_key', env: false }]);

    const error = thrown(() => service.getOrThrow('redis_password'));
    expect(error).toBeInstanceOf(SecretNotAvailableError);
    expect(error.name).toBe('SecretNotAvailableError');
    expect(error.message).toBe(
      'Secret "redis_password" is not available: optional and not found at boot; ' +
        `looked at: file ${sandbox.dir}/redis_password (not found), env REDIS_PASSWORD_FILE (not set), ` +
        'env REDIS_PASSWORD (not set); ' +
        `to fix: create the file ${sandbox.dir}/redis_password, or set REDIS_PASSWORD_FILE to the path ` +
        'of a file that holds it, or set REDIS_PASSWORD (for development; use a file in production). ' +
        'Secrets are looked up at boot: restart once it is in place.',
    );
    const tls = thrown(() => service.getBufferOrThrow('tls_key'));
    expect(tls).toBeInstanceOf(SecretNotAvailableError);
    expect(tls.message).toContain(
      `looked at: file ${sandbox.dir}/tls_key (not found); to fix: create the file ${sandbox.dir}/tls_key.`,
    );
    await app.close();

    // One piece of code builds the list and the advice for both errors: the same secret, required,
    // fails boot with the same problem.
    const bootError = await rejectionOf(load([{ name: 'redis_password', required: true }]));
    expect(bootError).toBeInstanceOf(SecretsLoadError);
    expect((bootError as SecretsLoadError).problems).toEqual([(error as SecretNotAvailableError).problem]);
    expect(bootError.message).toContain(
      `; to fix: create the file ${sandbox.dir}/redis_password, or set REDIS_PASSWORD_FILE`,
    );
  });

  it('in production: says the set env var was ignored, never shows its value, offers only files', async () => {
    sandbox.env({ NODE_ENV: 'production', REDIS_PASSWORD: 'pl41n-env-value' });
    const { app, service } = await load([{ name: 'redis_password' }]);

    const error = thrown(() => service.getOrThrow('redis_password'));
    expect(error).toBeInstanceOf(SecretNotAvailableError);
    expect(error.message).toContain(
      'env REDIS_PASSWORD (set, but ignored: the plain-env fallback is off when NODE_ENV=production); ' +
        `to fix: create the file ${sandbox.dir}/redis_password, or set REDIS_PASSWORD_FILE to the path ` +
        'of a file that holds it. ',
    );
    expect(`${error.message} ${error.stack} ${JSON.stringify(error)}`).not.toMatch(/pl41n|env-value/);
    await app.close();
  });

  it('a binary secret read as text: a typed error (still a TypeError) that says how to read it', async () => {
    sandbox.file('keystore', 'binary-bytes');
    const { app, service } = await load([{ name: 'keystore', encoding: 'buffer' }]);
    const error = thrown(() => service.get('keystore'));
    expect(error).toBeInstanceOf(SecretEncodingError);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.name).toBe('SecretEncodingError');
    expect(error.message).toBe(
      'Secret "keystore" is declared with encoding "buffer"; read it with getBuffer().',
    );
    await app.close();
  });

  it('an undeclared name: a typed error that lists the declared names', async () => {
    sandbox.file('redis_password', 'r3dis-s3cret-value');
    const { app, service } = await load([{ name: 'redis_password' }, { name: 'session_secret' }]);

    for (const read of [() => service.get('redis_pasword'), () => service.getOrThrow('redis_pasword')]) {
      const error = thrown(read);
      expect(error).toBeInstanceOf(SecretNotDeclaredError);
      expect(error.message).toBe(
        'Secret "redis_pasword" is not declared in SecretsModule. Declared names: "redis_password", ' +
          '"session_secret". Fix the name, or add { name: "redis_pasword" } to the secrets given to SecretsModule.',
      );
      expect((error as SecretNotDeclaredError).declared).toEqual(['redis_password', 'session_secret']);
    }

    // A value passed where the name belongs is not echoed back.
    const byValue = thrown(() => service.get('r3dis-s3cret-value'));
    expect(byValue).toBeInstanceOf(SecretNotDeclaredError);
    expect(byValue.message).not.toContain('r3dis');
    expect(byValue.message).toContain('Pass one of the declared names: "redis_password", "session_secret".');
    await app.close();
  });
});
