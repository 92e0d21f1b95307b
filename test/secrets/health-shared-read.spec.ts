import { unlinkSync } from 'node:fs';
import { SecretsHealthIndicator, SecretsModule, SecretsService } from '@bastion/secrets';
import type { INestApplicationContext } from '@nestjs/common';
import { CaptureLogger } from './support/capture-logger.js';
import { boot, KubernetesVolume, SecretsSandbox } from './support/secrets-sandbox.js';

describe('health: concurrent probes share one read of the files; freshnessMs reuses it briefly', () => {
  let sandbox: SecretsSandbox;
  let volume: KubernetesVolume;
  let app: INestApplicationContext | undefined;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    volume = new KubernetesVolume(sandbox.dir);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await app?.close();
    app = undefined;
    sandbox.cleanup();
  });

  async function start(rotation: boolean) {
    app = await boot(
      SecretsModule.forRoot({
        directory: sandbox.dir,
        rotation: rotation ? { debounceMs: 10 } : false,
        secrets: [{ name: 'db_password', required: true }, { name: 'api_token' }],
      }),
      new CaptureLogger(),
    );
    return { health: app.get(SecretsHealthIndicator), service: app.get(SecretsService) };
  }

  it('20 concurrent calls read the files once, and all get the answer', async () => {
    volume.write({ db_password: 'pw-one', api_token: 'tok' });
    const { health } = await start(false);
    // The one private step that touches the files: counted, not replaced.
    const reads = vi.spyOn(
      SecretsHealthIndicator.prototype as never as { readFiles: () => unknown },
      'readFiles',
    );
    const answers = await Promise.all(Array.from({ length: 20 }, () => health.isHealthy('secrets')));
    expect(reads).toHaveBeenCalledTimes(1);
    expect(answers.every((a) => a.secrets.status === 'up')).toBe(true);
    // Default freshnessMs 0: the next call reads again.
    await health.isHealthy('secrets');
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it('freshnessMs: a deleted file is reported once the reused read is older than freshnessMs', async () => {
    volume.write({ db_password: 'pw-one', api_token: 'tok' });
    const { health } = await start(false);
    expect((await health.isHealthy('secrets', { freshnessMs: 300 })).secrets.status).toBe('up');
    unlinkSync(`${sandbox.dir}/db_password`);
    expect((await health.isHealthy('secrets', { freshnessMs: 300 })).secrets.status).toBe('up');
    await vi.waitFor(
      async () =>
        expect((await health.isHealthy('secrets', { freshnessMs: 300 })).secrets.status).toBe('down'),
      { timeout: 1000, interval: 20 },
    );
  });

  it('a rotation ends the reuse at once', async () => {
    volume.write({ db_password: 'pw-one', api_token: 'tok' });
    const { health, service } = await start(true);
    const options = { freshnessMs: 60_000 };
    expect((await health.isHealthy('secrets', options)).secrets.status).toBe('up');
    volume.write({ db_password: 'pw-two', api_token: 'tok' });
    await vi.waitFor(() => expect(service.get('db_password')).toBe('pw-two'), {
      timeout: 5000,
      interval: 20,
    });
    unlinkSync(`${sandbox.dir}/db_password`);
    expect((await health.isHealthy('secrets', options)).secrets).toMatchObject({
      status: 'down',
      unreadable: ['db_password'],
    });
  });
});
