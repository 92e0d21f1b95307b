import { SecretsModule, SecretsService } from '@bastion/secrets';
import { CaptureLogger } from './support/capture-logger.js';
import { boot, KubernetesVolume, SecretsSandbox } from './support/secrets-sandbox.js';

describe('SecretsService.stats()', () => {
  let sandbox: SecretsSandbox;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    sandbox.env({ NODE_ENV: 'development', API_TOKEN: undefined });
  });
  afterEach(() => sandbox.cleanup());

  it('counts loads and rotations, per name (as values), with no value anywhere', async () => {
    const volume = new KubernetesVolume(sandbox.dir);
    volume.write({ db_password: 'Stats-pw-1-9f3c' });
    const app = await boot(
      SecretsModule.forRoot({
        directory: sandbox.dir,
        secrets: [
          { name: 'db_password', required: true, validate: (v) => v.length > 8 },
          { name: 'api_token' },
        ],
      }),
      new CaptureLogger(),
    );
    const secrets = app.get(SecretsService);
    expect(secrets.stats()).toEqual({
      loads: 1,
      rotations: 0,
      rotationFailures: 0,
      secrets: [
        {
          name: 'db_password',
          loaded: true,
          rotations: 0,
          rotationFailures: 0,
          lastRotatedAt: undefined,
          loadedAt: expect.any(Number),
        },
        {
          name: 'api_token',
          loaded: false,
          rotations: 0,
          rotationFailures: 0,
          lastRotatedAt: undefined,
          loadedAt: undefined,
        },
      ],
    });

    const before = Date.now();
    volume.write({ db_password: 'Stats-pw-2-1a7e' });
    await secrets.reload();
    volume.write({ db_password: 'short' }); // fails validation: the old value stays
    await secrets.reload();
    await secrets.reload(); // the same problem again: reported (and counted) once

    const stats = secrets.stats();
    expect(stats).toMatchObject({ loads: 4, rotations: 1, rotationFailures: 1 });
    expect(stats.secrets[0]).toMatchObject({ name: 'db_password', rotations: 1, rotationFailures: 1 });
    expect(stats.secrets[0]!.lastRotatedAt).toBeGreaterThanOrEqual(before);
    // The value in use is the rotated one: the failed re-reads did not replace it.
    expect(stats.secrets[0]!.loadedAt).toBe(stats.secrets[0]!.lastRotatedAt);
    expect(JSON.stringify(stats)).not.toMatch(/Stats-pw|short/);
    await app.close();
  });
});
