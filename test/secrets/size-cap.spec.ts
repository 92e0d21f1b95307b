import { DEFAULT_MAX_SECRET_BYTES, SecretsModule, SecretsService } from '@bastion/secrets';
import { boot, rejectionOf, SecretsSandbox } from './support/secrets-sandbox.js';

describe('size cap', () => {
  let sandbox: SecretsSandbox;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    sandbox.env({ NODE_ENV: 'development' });
  });
  afterEach(() => sandbox.cleanup());

  it('defaults to 64 KiB: exactly 64 KiB loads, one byte more fails with a clear error', async () => {
    expect(DEFAULT_MAX_SECRET_BYTES).toBe(65536);
    sandbox.file('at_cap', 'a'.repeat(65536));
    sandbox.file('over_cap', 'b'.repeat(65537));
    const ok = await boot(SecretsModule.forRoot({ directory: sandbox.dir, secrets: [{ name: 'at_cap' }] }));
    expect(ok.get(SecretsService).get('at_cap')).toHaveLength(65536);
    await ok.close();

    const error = await rejectionOf(
      boot(SecretsModule.forRoot({ directory: sandbox.dir, secrets: [{ name: 'over_cap' }] })),
    );
    expect(error.message).toContain(
      `"over_cap" is invalid: file ${sandbox.dir}/over_cap is larger than the 65536-byte cap`,
    );
    expect(error.message).not.toContain('bbbbbbbb');
  });

  it('applies module and per-secret caps to files and env values alike', async () => {
    sandbox.file('small', '12345');
    sandbox.env({ BIG_ENV: 'x'.repeat(11) });
    const error = await rejectionOf(
      boot(
        SecretsModule.forRoot({
          directory: sandbox.dir,
          maxBytes: 4,
          secrets: [{ name: 'small' }, { name: 'big_env', maxBytes: 10 }],
        }),
      ),
    );
    expect(error.message).toContain('small is larger than the 4-byte cap');
    expect(error.message).toContain('env BIG_ENV is larger than the 10-byte cap');
  });

  it('does not hang on a FIFO placed where a secret should be', async () => {
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [`${sandbox.dir}/fifo`]);
    await expect(
      boot(SecretsModule.forRoot({ directory: sandbox.dir, secrets: [{ name: 'fifo' }] })),
    ).rejects.toThrow(/fifo is not a regular file/);
  });
});
