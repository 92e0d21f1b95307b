import { SecretsConfigError } from '@bastion/secrets';
import { resolveSecretsOptions } from '../../libs/secrets/src/secrets-options.resolver.js';

describe('resolveSecretsOptions (unit)', () => {
  it('applies every default, once, into a frozen object', () => {
    const resolved = resolveSecretsOptions(
      { secrets: [{ name: 'tls.key-pem' }] },
      { NODE_ENV: 'development' },
    );
    expect(resolved).toEqual({
      secrets: [
        {
          name: 'tls.key-pem',
          required: false,
          env: 'TLS_KEY_PEM',
          encoding: 'utf8',
          maxBytes: 65536,
          validate: undefined,
          parse: undefined,
        },
      ],
      directory: '/run/secrets',
      envConflict: 'error',
      production: false,
      allowEnvFallback: true,
      rotation: undefined,
    });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(Object.isFrozen(resolved.secrets[0])).toBe(true);
  });

  it('reads production from NODE_ENV, takes undefined as the default and rotation: true as its defaults', () => {
    const resolved = resolveSecretsOptions(
      { secrets: [{ name: 'a', env: false, maxBytes: undefined }], maxBytes: 10, rotation: true },
      { NODE_ENV: 'production' },
    );
    expect(resolved).toMatchObject({
      production: true,
      allowEnvFallback: false,
      rotation: { watch: true, pollIntervalMs: 60_000, debounceMs: 100 },
      secrets: [{ env: undefined, maxBytes: 10 }],
    });
  });

  it('never swaps an invalid value for a default', () => {
    expect(() =>
      resolveSecretsOptions({ secrets: [], maxBytes: -1, rotation: { pollIntervalMs: Number.NaN } }),
    ).toThrow(SecretsConfigError);
  });
});
