import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Registry } from 'prom-client';
import { SecretsModule, SecretsService } from '@bastion/secrets';
import { SecretsMetricsModule } from '@bastion/secrets/metrics';
import { CaptureLogger } from './support/capture-logger.js';
import { KubernetesVolume, SecretsSandbox } from './support/secrets-sandbox.js';
import { parsePrometheusText } from '../support/prometheus-text.js';

/** The series of one scrape of `registry`. */
async function scrape(registry: Registry): Promise<Map<string, number>> {
  return parsePrometheusText(await registry.metrics());
}

describe('@bastion/secrets/metrics (prom-client)', () => {
  let sandbox: SecretsSandbox;
  beforeEach(() => {
    sandbox = new SecretsSandbox();
    sandbox.env({ NODE_ENV: 'development', API_TOKEN: undefined });
  });
  afterEach(() => sandbox.cleanup());

  it('exposes loads, rotations, load errors, loaded and age per secret name, and moves them on rotation', async () => {
    const volume = new KubernetesVolume(sandbox.dir);
    volume.write({ db_password: 'Metrics-pw-1-7c2e' });
    const registry = new Registry();
    @Module({
      imports: [
        SecretsModule.forRoot({
          directory: sandbox.dir,
          isGlobal: true,
          secrets: [
            { name: 'db_password', required: true, validate: (v) => v.length > 8 },
            { name: 'api_token' },
          ],
        }),
        SecretsMetricsModule.forRoot({ registry }),
      ],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, {
      logger: new CaptureLogger(),
      abortOnError: false,
    });
    const secrets = app.get(SecretsService);

    const boot = await scrape(registry);
    expect(boot.get('bastion_secrets_loads_total')).toBe(1);
    expect(boot.get('bastion_secrets_rotations_total{secret="db_password"}')).toBe(0);
    expect(boot.get('bastion_secrets_load_errors_total{secret="db_password"}')).toBe(0);
    expect(boot.get('bastion_secrets_loaded{secret="db_password"}')).toBe(1);
    expect(boot.get('bastion_secrets_loaded{secret="api_token"}')).toBe(0);
    expect(boot.get('bastion_secrets_age_seconds{secret="db_password"}')).toBeGreaterThanOrEqual(0);
    expect(boot.has('bastion_secrets_age_seconds{secret="api_token"}')).toBe(false);

    await new Promise((r) => setTimeout(r, 1100));
    const aged = (await scrape(registry)).get('bastion_secrets_age_seconds{secret="db_password"}')!;
    expect(aged).toBeGreaterThanOrEqual(1);

    volume.write({ db_password: 'Metrics-pw-2-0b9d' });
    await secrets.reload();
    volume.write({ db_password: 'short' }); // rejected: the previous value stays
    await secrets.reload();
    const after = await scrape(registry);
    expect(after.get('bastion_secrets_loads_total')).toBe(3);
    expect(after.get('bastion_secrets_rotations_total{secret="db_password"}')).toBe(1);
    expect(after.get('bastion_secrets_load_errors_total{secret="db_password"}')).toBe(1);
    expect(after.get('bastion_secrets_age_seconds{secret="db_password"}')).toBeLessThan(aged);
    expect(await registry.metrics()).not.toMatch(/Metrics-pw|short/);

    await app.close();
    // Removed with the module: a restarted module (tests, hot reload) registers them again.
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });
});
