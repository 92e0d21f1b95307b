import { SecretsModule, SecretsService } from '@bastion/secrets';
import { boot, rejectionOf, SecretsSandbox } from './support/secrets-sandbox.js';

describe('resolution order: <dir>/<name> → <ENV>_FILE → <ENV>', () => {
  let sandbox: SecretsSandbox;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    sandbox.env({ NODE_ENV: 'development' });
  });
  afterEach(() => sandbox.cleanup());

  async function load(secrets: Parameters<typeof SecretsModule.forRoot>[0]['secrets'], extra = {}) {
    const app = await boot(
      SecretsModule.forRoot({ directory: sandbox.dir, secrets, envConflict: 'prefer-file', ...extra }),
    );
    const service = app.get(SecretsService);
    return { app, service };
  }

  it('prefers the directory file, then <ENV>_FILE, then <ENV>, and records the source', async () => {
    sandbox.file('a_secret', 'from-dir');
    const envFile = sandbox.file('elsewhere/../b_file', 'from-env-file');
    sandbox.env({
      A_SECRET: 'a-env',
      A_SECRET_FILE: envFile,
      B_SECRET_FILE: envFile,
      B_SECRET: 'b-env',
      C_SECRET: 'c-env',
    });
    const { app, service } = await load([
      { name: 'a_secret' },
      { name: 'b_secret' },
      { name: 'c_secret' },
      { name: 'd_secret' },
    ]);

    expect(service.get('a_secret')).toBe('from-dir');
    expect(service.source('a_secret')).toEqual({ type: 'directory', location: `${sandbox.dir}/a_secret` });
    expect(service.get('b_secret')).toBe('from-env-file');
    expect(service.source('b_secret')).toEqual({ type: 'env-file', location: envFile });
    expect(service.get('c_secret')).toBe('c-env');
    expect(service.source('c_secret')).toEqual({ type: 'env', location: 'C_SECRET' });
    expect(service.get('d_secret')).toBeUndefined();
    expect(service.source('d_secret')).toBeUndefined();
    expect(() => service.getOrThrow('d_secret')).toThrow('Secret "d_secret" is not available');
    await app.close();
  });

  it('uses the declared env name, and env: false disables env lookups', async () => {
    sandbox.env({ CUSTOM_NAME: 'custom', NO_ENV: 'ignored' });
    const { app, service } = await load([
      { name: 'x', env: 'CUSTOM_NAME' },
      { name: 'no_env', env: false },
    ]);
    expect(service.get('x')).toBe('custom');
    expect(service.get('no_env')).toBeUndefined();
    await app.close();
  });

  it('strips exactly one trailing \\n or \\r\\n and keeps every other whitespace', async () => {
    sandbox.file('lf', 'pa ss\n');
    sandbox.file('crlf', 'pa ss\r\n');
    sandbox.file('two_lf', 'pa ss\n\n');
    sandbox.file('spaces', '  pa ss  ');
    sandbox.file('lone_cr', 'pass\r');
    const names = ['lf', 'crlf', 'two_lf', 'spaces', 'lone_cr'];
    const { app, service } = await load(names.map((name) => ({ name })));
    expect(names.map((n) => service.get(n))).toEqual(['pa ss', 'pa ss', 'pa ss\n', '  pa ss  ', 'pass\r']);
    await app.close();
  });

  it('treats an empty file (or a lone newline) as missing and goes on to the next source', async () => {
    sandbox.file('empty', '');
    sandbox.file('newline_only', '\n');
    sandbox.env({ EMPTY: 'from-env' });
    const { app, service } = await load([{ name: 'empty' }, { name: 'newline_only' }]);
    expect(service.get('empty')).toBe('from-env');
    expect(service.has('newline_only')).toBe(false);
    await app.close();
  });

  it('keeps binary secrets byte for byte and hands out copies', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0x0a, 0x0d, 0x0a]);
    sandbox.file('keystore', bytes);
    sandbox.file('text', 'abc\n');
    const { app, service } = await load([{ name: 'keystore', encoding: 'buffer' }, { name: 'text' }]);
    const copy = service.getBuffer('keystore')!;
    expect(copy.equals(bytes)).toBe(true);
    copy.fill(0);
    expect(service.getBufferOrThrow('keystore').equals(bytes)).toBe(true);
    expect(() => service.get('keystore')).toThrow(/getBuffer/);
    expect(service.getBuffer('text')!.toString()).toBe('abc');
    await app.close();
  });

  it('throws on an undeclared name instead of returning undefined (typos fail loudly)', async () => {
    const { app, service } = await load([{ name: 'a' }]);
    expect(() => service.get('not_declared')).toThrow('Secret "not_declared" is not declared');
    await app.close();
  });

  it('fails (instead of falling back to env) on a directory where a secret file should be', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(`${sandbox.dir}/a_dir`);
    sandbox.env({ A_DIR: 'env-value' });
    await expect(load([{ name: 'a_dir' }])).rejects.toThrow(
      /"a_dir" is invalid: file .*a_dir is a directory, not a file/,
    );
  });

  it('fails (instead of falling back) on a file that cannot be opened', async () => {
    const { symlinkSync } = await import('node:fs');
    symlinkSync('loop', `${sandbox.dir}/loop`); // ELOOP: a broken mount, not an absent secret
    sandbox.env({ LOOP: 'env-value' });
    await expect(load([{ name: 'loop' }])).rejects.toThrow(
      /"loop" is invalid: file .*loop cannot be opened \(ELOOP\)/,
    );
  });

  it('reports a <ENV>_FILE that points nowhere as an error, not as a missing secret', async () => {
    sandbox.env({ OPT_FILE: `${sandbox.root}/nope` });
    await expect(load([{ name: 'opt' }])).rejects.toThrow(
      /"opt" is invalid: file .*nope \(from OPT_FILE\) does not exist/,
    );
  });

  it('runs the validator and never shows its thrown message', async () => {
    sandbox.file('token', 'short-value');
    const secrets = [
      {
        name: 'token',
        validate: (v: string) => {
          throw new Error(`bad token ${v}`);
        },
      },
    ];
    const error = await rejectionOf(load(secrets));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /"token" is invalid: file .*token failed validation \(the validator threw Error/,
    );
    expect((error as Error).message).not.toContain('short-value');
  });

  it('shows a returned rule text, scrubbed of the value', async () => {
    sandbox.file('token', 'abc');
    const error = await rejectionOf(
      load([{ name: 'token', validate: (v: string) => v.length >= 32 || `must be 32+ chars, not ${v}` }]),
    );
    expect((error as Error).message).toContain('failed validation: must be 32+ chars, not [redacted]');
  });
});
