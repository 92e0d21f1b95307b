import { readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { SecretsHealthIndicator, SecretsModule, SecretsService, type SecretEvent } from '@bastion/secrets';
import type { INestApplicationContext } from '@nestjs/common';
import { CaptureLogger } from './support/capture-logger.js';
import { boot, KubernetesVolume, SecretsSandbox } from './support/secrets-sandbox.js';

describe('Kubernetes ..data layout and rotation', () => {
  let sandbox: SecretsSandbox;
  let volume: KubernetesVolume;
  let app: INestApplicationContext | undefined;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    sandbox.env({ NODE_ENV: 'production' });
    volume = new KubernetesVolume(sandbox.dir);
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    sandbox.cleanup();
  });

  async function start(
    rotation: Parameters<typeof SecretsModule.forRoot>[0]['rotation'],
    logger = new CaptureLogger(),
  ) {
    app = await boot(
      SecretsModule.forRoot({
        directory: sandbox.dir,
        rotation,
        secrets: [
          {
            name: 'db_password',
            required: true,
            validate: (v) => v.length >= 4 || 'must be at least 4 characters',
          },
          { name: 'api_token' },
        ],
      }),
      logger,
    );
    const service = app.get(SecretsService);
    const events: SecretEvent[] = [];
    service.events$.subscribe((event) => events.push(event));
    return { service, events, health: app.get(SecretsHealthIndicator), logger };
  }

  it('reads symlinked files through ..data and ignores the dot-entries', async () => {
    volume.write({ db_password: 'pw-one\n', api_token: 'tok' });
    expect(readdirSync(sandbox.dir).toSorted()).toEqual([
      '..2026_11_25_13_00_00.1',
      '..data',
      'api_token',
      'db_password',
    ]);
    const { service } = await start(false);
    expect(service.get('db_password')).toBe('pw-one');
    expect(service.source('db_password')).toEqual({
      type: 'directory',
      location: `${sandbox.dir}/db_password`,
    });
    expect(service.generation).toBe(1);
  });

  it('follows repeated ..data symlink swaps by watching the directory (not the file)', async () => {
    volume.write({ db_password: 'pw-one', api_token: 'tok' });
    const { service, events } = await start({ watch: true, pollIntervalMs: 0, debounceMs: 20 });
    let notified = 0;
    service.subscribe(() => notified++);

    volume.write({ db_password: 'pw-two', api_token: 'tok' });
    await vi.waitFor(() => expect(service.get('db_password') === 'pw-two', 'first rotation').toBe(true), {
      timeout: 5000,
      interval: 20,
    });
    expect(service.generation).toBe(2);
    expect(service.status('db_password')).toMatchObject({ generation: 2, stale: false });
    expect(service.status('api_token').generation).toBe(1);

    // A watch on the file itself would be dead now; the directory watch must see the next swap too.
    volume.write({ db_password: 'pw-three', api_token: 'tok' });
    await vi.waitFor(() => expect(service.get('db_password') === 'pw-three', 'second rotation').toBe(true), {
      timeout: 5000,
      interval: 20,
    });
    expect(service.generation).toBe(3);

    expect(events).toEqual([
      {
        type: 'rotated',
        name: 'db_password',
        generation: 2,
        source: { type: 'directory', location: `${sandbox.dir}/db_password` },
      },
      {
        type: 'rotated',
        name: 'db_password',
        generation: 3,
        source: { type: 'directory', location: `${sandbox.dir}/db_password` },
      },
    ]);
    expect(service.values()).toEqual(expect.arrayContaining(['pw-one', 'pw-two', 'pw-three', 'tok']));
    expect(notified).toBe(2);
  });

  it('stops watching and polling when the application closes', async () => {
    volume.write({ db_password: 'pw-one', api_token: 'tok' });
    const { service } = await start({ watch: true, pollIntervalMs: 30, debounceMs: 10 });
    await app!.close();
    app = undefined;
    volume.write({ db_password: 'pw-after-close', api_token: 'tok' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(service.get('db_password')).toBe('pw-one');
    expect(service.generation).toBe(1);
  });

  it('picks up a swap by polling when watching is off', async () => {
    volume.write({ db_password: 'pw-one', api_token: 'tok' });
    const { service } = await start({ watch: false, pollIntervalMs: 50 });
    volume.write({ db_password: 'pw-polled', api_token: 'tok' });
    await vi.waitFor(() => expect(service.get('db_password') === 'pw-polled', 'polled rotation').toBe(true), {
      timeout: 5000,
      interval: 20,
    });
    expect(service.generation).toBe(2);
  });

  it('keeps the old value when rotated content is invalid, reports it once, and recovers', async () => {
    volume.write({ db_password: 'pw-good', api_token: 'tok' });
    const { service, events, health, logger } = await start({
      watch: true,
      pollIntervalMs: 0,
      debounceMs: 20,
    });

    volume.write({ db_password: 'no', api_token: 'tok' });
    await vi.waitFor(() => expect(events.length > 0, 'rotation-failed event').toBe(true), {
      timeout: 5000,
      interval: 20,
    });
    expect(events[0]).toEqual({
      type: 'rotation-failed',
      name: 'db_password',
      reason: `${sandbox.dir}/db_password failed validation: must be at least 4 characters`,
    });
    expect(service.get('db_password')).toBe('pw-good');
    expect(service.generation).toBe(1);
    expect(service.status('db_password').stale).toBe(true);
    await service.reload(); // same bad content again: no second report
    expect(events).toHaveLength(1);
    expect(logger.byLevel('warn').filter((w) => w.includes('was not rotated'))).toHaveLength(1);
    expect(await health.isHealthy()).toEqual({
      secrets: {
        status: 'degraded',
        sources: { directory: ['db_password', 'api_token'] },
        stale: ['db_password'],
      },
    });

    volume.write({ db_password: '', api_token: 'tok' });
    await vi.waitFor(() => expect(events.length > 1, 'empty-file report').toBe(true), {
      timeout: 5000,
      interval: 20,
    });
    expect(events[1]).toMatchObject({
      type: 'rotation-failed',
      reason: `${sandbox.dir}/db_password is empty`,
    });
    expect(service.get('db_password')).toBe('pw-good');

    volume.write({ db_password: 'pw-fixed', api_token: 'tok' });
    await vi.waitFor(() => expect(service.get('db_password') === 'pw-fixed', 'recovery').toBe(true), {
      timeout: 5000,
      interval: 20,
    });
    expect(service.status('db_password')).toMatchObject({ stale: false, generation: 2 });
    expect((await health.isHealthy()).secrets.status).toBe('up');
  });

  it('health is down when a required secret is no longer readable, degraded for an optional one', async () => {
    volume.write({ db_password: 'pw-one', api_token: 'tok' });
    const { health } = await start(false);
    expect(await health.isHealthy('secrets')).toEqual({
      secrets: { status: 'up', sources: { directory: ['db_password', 'api_token'] } },
    });
    unlinkSync(`${sandbox.dir}/api_token`);
    expect((await health.isHealthy('secrets')).secrets).toMatchObject({
      status: 'degraded',
      unreadable: ['api_token'],
    });
    // A file holding only its newline is empty, hence missing, as at boot.
    writeFileSync(`${sandbox.dir}/db_password`, '\n');
    expect((await health.isHealthy('secrets')).secrets).toMatchObject({
      status: 'down',
      unreadable: ['db_password', 'api_token'],
    });
    unlinkSync(`${sandbox.dir}/db_password`);
    expect(await health.isHealthy('creds')).toEqual({
      creds: {
        status: 'down',
        sources: { directory: ['db_password', 'api_token'] },
        unreadable: ['db_password', 'api_token'],
      },
    });
  });
});
