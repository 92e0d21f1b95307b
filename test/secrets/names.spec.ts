import {
  assertValidSecretName,
  defineSecrets,
  SecretDeclarationError,
  SecretsConfigError,
  SecretsModule,
} from '@bastion/secrets';

describe('secret names are checked where they are declared', () => {
  it.each([
    '../etc/passwd',
    '/etc/passwd',
    '.hidden',
    'a/b',
    'a\\b',
    '..',
    'a..b',
    '',
    'sp ace',
    'x'.repeat(256),
  ])('rejects %j in defineSecrets() and SecretsModule.forRoot()', (name) => {
    expect(() => defineSecrets([{ name }])).toThrow(SecretsConfigError);
    expect(() => SecretsModule.forRoot({ secrets: [{ name }] })).toThrow(SecretsConfigError);
    // The deprecated name still catches it.
    expect(() => defineSecrets([{ name }])).toThrow(SecretDeclarationError);
  });

  it('explains what is wrong, with the declaration path and a valid example', () => {
    expect(() => defineSecrets([{ name: '../etc/passwd' }])).toThrow(
      'secrets[0].name "../etc/passwd" must not contain ".." (a name is one file in the secrets directory); e.g. "redis_password"',
    );
    expect(() => defineSecrets([{ name: '/etc/passwd' }])).toThrow(/no path separators/);
    expect(() => defineSecrets([{ name: '.hidden' }])).toThrow(/must not start with a dot.*e\.g\. "hidden"/);
    expect(() => defineSecrets([{ name: 'a/b' }])).toThrow(/no path separators/);
    expect(() => assertValidSecretName('a/b')).toThrow(/ - name "a\/b" may hold only letters/);
  });

  it('accepts Docker/Kubernetes-style names and rejects duplicates and bad env names', () => {
    expect(defineSecrets([{ name: 'redis_password' }, { name: 'tls.key-v2' }, { name: 'A1' }])).toHaveLength(
      3,
    );
    expect(() => defineSecrets([{ name: 'a' }, { name: 'a' }])).toThrow(
      'secrets[1].name "a" is declared twice (also secrets[0]); remove one of them',
    );
    expect(() => defineSecrets([{ name: 'a', env: 'A-B' }])).toThrow(
      /secrets\[0\]\.env "A-B" is not an environment variable name .*e\.g\. "A_B"/,
    );
  });

  it('reports every bad declaration at once', () => {
    let error: unknown;
    try {
      defineSecrets([
        { name: '../x' },
        { name: 'ok', env: 'A-B', maxBytes: 0 },
        { name: 'ok', encoding: 'base64' as never },
      ]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect((error as SecretsConfigError).name).toBe('SecretsConfigError');
    expect((error as SecretsConfigError).problems).toEqual([
      expect.stringMatching(/^secrets\[0\]\.name "\.\.\/x" must not contain "\.\."/),
      expect.stringMatching(/^secrets\[1\]\.env "A-B" is not an environment variable name/),
      'secrets[1].maxBytes must be a positive integer (got 0); e.g. 65536',
      'secrets[2].encoding must be "utf8" or "buffer" (got "base64"); e.g. "buffer" for a binary secret',
      'secrets[2].name "ok" is declared twice (also secrets[1]); remove one of them',
    ]);
  });

  it('rejects bad names in forRootAsync options at boot', async () => {
    const { boot } = await import('./support/secrets-sandbox.js');
    await expect(
      boot(SecretsModule.forRootAsync({ useFactory: () => ({ secrets: [{ name: '../x' }] }) })),
    ).rejects.toThrow(SecretsConfigError);
  });
});
