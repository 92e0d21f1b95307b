import { SecretsConfigError, SecretsModule, type SecretsModuleOptions } from '@bastion/secrets';
import { registerSecretsConfig } from '@bastion/secrets/config';
import { boot, rejectionOf } from './support/secrets-sandbox.js';

/** The problems of the SecretsConfigError `fn` throws (fails the test when it throws nothing else). */
function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecretsConfigError);
    expect((err as Error).name).toBe('SecretsConfigError');
    return (err as SecretsConfigError).problems;
  }
  throw new Error('expected a SecretsConfigError');
}

const BAD = {
  directory: '',
  envConflict: 'prefer-neither',
  maxBytes: 0,
  allowEnvFallback: 'yes',
  rotation: { pollIntervalMs: -1, debounceMs: 1.5 },
  healthTimeoutMs: 200,
  secrets: [
    { name: 'redis_password', required: 'true' },
    { name: '../etc/passwd' },
    { name: 'redis_password' },
  ],
} as unknown as SecretsModuleOptions;

const EXPECTED = [
  'directory must not be empty; e.g. "/run/secrets", or leave it unset for that default',
  'envConflict must be "error", "prefer-file" or "prefer-env" (got "prefer-neither"); e.g. "prefer-file"',
  'allowEnvFallback must be true or false (got "yes"); e.g. false',
  'maxBytes must be a positive integer (got 0); e.g. 65536',
  'rotation.pollIntervalMs must be a non-negative integer (got -1); e.g. 60000, or 0 to turn polling off',
  'rotation.debounceMs must be a non-negative integer (got 1.5); e.g. 100',
  'secrets[0].required must be true or false (got "true"); e.g. true, or process.env.NODE_ENV === "production"',
  'secrets[1].name "../etc/passwd" must not contain ".." (a name is one file in the secrets directory); e.g. "redis_password"',
  'secrets[2].name "redis_password" is declared twice (also secrets[0]); remove one of them',
  "healthTimeoutMs is no longer a module option; pass the deadline per check instead, e.g. isHealthy('secrets', { timeoutMs: 500 })",
];

describe('SecretsConfigError: every bad option at once', () => {
  it('forRoot() lists every problem, each with its path, the value given and a valid example', () => {
    const problems = problemsOf(() => SecretsModule.forRoot(BAD));
    expect([...problems].toSorted()).toEqual([...EXPECTED].toSorted());
    // Never `path:` (a logger's key=value rule would mask what follows `redis_password:`).
    for (const problem of problems) expect(problem).not.toMatch(/^[\w.[\]]+[:=]/);
  });

  it('forRootAsync() throws the same error at boot', async () => {
    const error = await rejectionOf(boot(SecretsModule.forRootAsync({ useFactory: () => BAD })));
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect([...(error as SecretsConfigError).problems].toSorted()).toEqual([...EXPECTED].toSorted());
    expect(error.message.split('\n')[0]).toBe('Invalid SecretsModule options:');
  });

  it('registerSecretsConfig() checks the same options the same way', () => {
    expect([...problemsOf(() => registerSecretsConfig(BAD))].toSorted()).toEqual([...EXPECTED].toSorted());
  });

  it('reports a missing secrets list and options that are not an object', () => {
    expect(problemsOf(() => SecretsModule.forRoot({} as SecretsModuleOptions))).toEqual([
      "secrets is missing; e.g. [{ name: 'redis_password' }]",
    ]);
    expect(
      problemsOf(() => SecretsModule.forRoot({ secrets: [{}] } as unknown as SecretsModuleOptions)),
    ).toEqual(['secrets[0].name is missing; e.g. "redis_password"']);
  });
});
