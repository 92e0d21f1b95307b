import { SecretsLoadError, SecretsModule, SecretsService } from '@bastion/secrets';
import { boot, rejectionOf, SecretsSandbox } from './support/secrets-sandbox.js';

describe('<ENV> and <ENV>_FILE both set', () => {
  let sandbox: SecretsSandbox;
  let envFile: string;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    envFile = sandbox.file('other/api_key', 'from-file');
    sandbox.env({ NODE_ENV: 'development', API_KEY: 'from-env', API_KEY_FILE: envFile });
  });
  afterEach(() => sandbox.cleanup());

  it('fails boot by default, naming both variables and no value', async () => {
    const error = await rejectionOf(
      boot(SecretsModule.forRoot({ directory: sandbox.dir, secrets: [{ name: 'api_key' }] })),
    );
    expect(error).toBeInstanceOf(SecretsLoadError);
    const message = (error as Error).message;
    expect(message).toContain('both API_KEY and API_KEY_FILE are set; they are exclusive');
    expect(message).not.toContain('from-env');
    expect(message).not.toContain('from-file');
  });

  it('is an error even for an optional secret whose directory file exists (it is a misconfiguration)', async () => {
    sandbox.file('api_key', 'from-dir');
    await expect(
      boot(
        SecretsModule.forRoot({ directory: sandbox.dir, secrets: [{ name: 'api_key', required: false }] }),
      ),
    ).rejects.toThrow(/both API_KEY and API_KEY_FILE/);
  });

  it.each([
    ['prefer-file', 'from-file', 'env-file'],
    ['prefer-env', 'from-env', 'env'],
  ] as const)('envConflict: %s picks one', async (envConflict, value, type) => {
    const app = await boot(
      SecretsModule.forRoot({ directory: sandbox.dir, envConflict, secrets: [{ name: 'api_key' }] }),
    );
    const service = app.get(SecretsService);
    expect(service.get('api_key')).toBe(value);
    expect(service.source('api_key')?.type).toBe(type);
    await app.close();
  });
});
