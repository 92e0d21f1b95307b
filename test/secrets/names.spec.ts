import { defineSecrets, SecretDeclarationError, SecretsModule } from '@bastion/secrets';

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
    expect(() => defineSecrets([{ name }])).toThrow(SecretDeclarationError);
    expect(() => SecretsModule.forRoot({ secrets: [{ name }] })).toThrow(SecretDeclarationError);
  });

  it('explains what is wrong', () => {
    expect(() => defineSecrets([{ name: '../etc/passwd' }])).toThrow(
      'Invalid secret name "../etc/passwd": it must not contain ".."',
    );
    expect(() => defineSecrets([{ name: '/etc/passwd' }])).toThrow(/no path separators/);
    expect(() => defineSecrets([{ name: '.hidden' }])).toThrow(/must not start with a dot/);
    expect(() => defineSecrets([{ name: 'a/b' }])).toThrow(/no path separators/);
  });

  it('accepts Docker/Kubernetes-style names and rejects duplicates and bad env names', () => {
    expect(defineSecrets([{ name: 'redis_password' }, { name: 'tls.key-v2' }, { name: 'A1' }])).toHaveLength(
      3,
    );
    expect(() => defineSecrets([{ name: 'a' }, { name: 'a' }])).toThrow('Secret "a" is declared twice.');
    expect(() => defineSecrets([{ name: 'a', env: 'A-B' }])).toThrow(/Invalid env name "A-B"/);
  });

  it('rejects bad names in forRootAsync options at boot', async () => {
    const { boot } = await import('./support/secrets-sandbox.js');
    await expect(
      boot(SecretsModule.forRootAsync({ useFactory: () => ({ secrets: [{ name: '../x' }] }) })),
    ).rejects.toThrow(SecretDeclarationError);
  });
});
