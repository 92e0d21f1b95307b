import { unlinkSync } from 'node:fs';
import { inspect } from 'node:util';
import { registerSecretsConfig } from '@bastion/secrets/config';
import {
  SECRET_REDACTION_SOURCE,
  SecretsHealthIndicator,
  SecretsModule,
  SecretsService,
  type SecretsModuleOptions,
} from '@bastion/secrets';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { CaptureLogger } from './support/capture-logger.js';
import { KubernetesVolume, rejectionOf, SecretsSandbox, thrown } from './support/secrets-sandbox.js';

// Distinctive values; the test searches every captured byte of output for each of them.
const DIR_VALUE = 'Dir-S3cret/with+url&chars';
const ENV_FILE_VALUE = 'EnvFile-S3cret-7d41c0a9';
const ENV_VALUE = 'PlainEnv-S3cret-55e1b7f2';
const ROTATED_VALUE = 'Rotated-S3cret-0b9e7c12';
const INVALID_VALUE = 'Bad-S3cret-invalid-a1f3';
const BINARY = Buffer.from('Binary-S3cret-c4d2e8f0');

describe('no secret value in any captured output', () => {
  let sandbox: SecretsSandbox;
  const captured: string[] = [];
  beforeAll(() => {
    sandbox = new SecretsSandbox();
  });
  afterAll(() => sandbox.cleanup());

  it('logs, errors, health JSON, inspect, toString and JSON.stringify never contain a value', async () => {
    const logger = new CaptureLogger();
    const volume = new KubernetesVolume(sandbox.dir);
    volume.write({ db_password: DIR_VALUE, keystore: BINARY.toString() });
    sandbox.env({
      NODE_ENV: 'development',
      API_TOKEN_FILE: sandbox.file('elsewhere/api_token', `${ENV_FILE_VALUE}\n`),
      SESSION_SECRET: ENV_VALUE,
    });
    const options: SecretsModuleOptions = {
      directory: sandbox.dir,
      rotation: { watch: true, pollIntervalMs: 0, debounceMs: 20 },
      secrets: [
        {
          name: 'db_password',
          required: true,
          validate: (v) => {
            if (v.startsWith('Bad')) throw new Error(`rejected ${v}`);
            return v.length > 8 || `too short: ${v}`;
          },
        },
        { name: 'api_token', required: true },
        { name: 'session_secret', required: true },
        { name: 'keystore', encoding: 'buffer' },
      ],
    };
    const secretsConfig = registerSecretsConfig(options);

    const AppModule = {
      imports: [
        ConfigModule.forRoot({ load: [secretsConfig], ignoreEnvFile: true }),
        SecretsModule.forRoot(options),
        TerminusModule,
      ],
    };
    const app = await NestFactory.createApplicationContext(AppModule, { logger, abortOnError: false });
    const service = app.get(SecretsService);
    const config = app.get(ConfigService);
    const healthCheck = app.get(HealthCheckService);
    const indicator = app.get(SecretsHealthIndicator);

    // The values ARE loaded (so the searches below can fail).
    expect(service.get('db_password')).toBe(DIR_VALUE);
    expect(service.get('api_token')).toBe(ENV_FILE_VALUE);
    expect(config.get('secrets.session_secret')).toBe(ENV_VALUE);
    expect(service.getBuffer('keystore')!.equals(BINARY)).toBe(true);
    expect(app.get(SECRET_REDACTION_SOURCE).values()).toEqual(
      expect.arrayContaining([DIR_VALUE, ENV_FILE_VALUE, ENV_VALUE]),
    );

    const snapshot = (label: string) =>
      captured.push(
        `--- ${label}`,
        String(service),
        `${service}`,
        JSON.stringify(service),
        inspect(service, { depth: Infinity, showHidden: true }),
        inspect(app.get(SECRET_REDACTION_SOURCE), { depth: Infinity }),
        JSON.stringify(config.get('secrets')),
        inspect(config.get('secrets'), { depth: Infinity, showHidden: true }),
        inspect(config, { depth: Infinity }),
        JSON.stringify(options),
        inspect(options, { depth: Infinity }),
        JSON.stringify(service.describe()),
        JSON.stringify(service.source('db_password')),
        JSON.stringify(service.stats()),
        inspect(service.stats(), { depth: Infinity }),
        inspect(indicator, { depth: Infinity, showHidden: true }),
        JSON.stringify(indicator),
      );
    snapshot('after boot');
    // Errors thrown while serving: a value passed where a name belongs is never echoed back.
    for (const error of [
      thrown(() => service.get(DIR_VALUE as never)),
      thrown(() => service.getOrThrow('nope' as never)),
      thrown(() => SecretsModule.forRoot({ ...options, maxBytes: 0 })),
    ]) {
      captured.push(String(error), inspect(error, { depth: Infinity }), JSON.stringify(error));
    }
    captured.push(JSON.stringify(await healthCheck.check([() => indicator.isHealthy()])));

    // Rotation: one valid swap, then invalid content (the validator throws with the value in its message).
    const events: unknown[] = [];
    service.events$.subscribe((e) => events.push(e));
    volume.write({ db_password: ROTATED_VALUE, keystore: BINARY.toString() });
    await vi.waitFor(() => expect(service.get('db_password') === ROTATED_VALUE, 'rotation').toBe(true), {
      timeout: 5000,
      interval: 20,
    });
    volume.write({ db_password: INVALID_VALUE, keystore: BINARY.toString() });
    await vi.waitFor(() => expect(events.length === 2, 'rotation failure').toBe(true), {
      timeout: 5000,
      interval: 20,
    });
    captured.push(JSON.stringify(events), inspect(events, { depth: Infinity }));
    captured.push(JSON.stringify(await healthCheck.check([() => indicator.isHealthy()])));
    snapshot('after rotation');

    // Health down: the required file disappears.
    unlinkSync(`${sandbox.dir}/db_password`);
    const down = (await rejectionOf(healthCheck.check([() => indicator.isHealthy()]))) as Error & {
      getResponse(): unknown;
    };
    captured.push(JSON.stringify(down.getResponse()), inspect(down, { depth: Infinity }));
    expect(JSON.stringify(down.getResponse())).toContain('"status":"down"');
    await app.close();

    // Boot errors: a validator that echoes the value, an oversize file, a conflict.
    for (const [files, env, secrets] of [
      [{ db_password: INVALID_VALUE }, {}, options.secrets.slice(0, 1)],
      [{ db_password: `${DIR_VALUE}${'x'.repeat(70_000)}` }, {}, options.secrets.slice(0, 1)],
      [{ db_password: 'tiny1' }, {}, [{ name: 'db_password', validate: (v: string) => `too short: ${v}` }]],
      [{}, { API_TOKEN: ENV_VALUE }, [{ name: 'api_token' }]],
    ] as const) {
      const dir = sandbox.file(`boot-${captured.length}/.keep`, '').replace(/\/\.keep$/, '');
      for (const [name, content] of Object.entries(files))
        sandbox.file(`${dir.slice(sandbox.root.length + 1)}/${name}`, content);
      sandbox.env(env);
      const FailingModule = { imports: [SecretsModule.forRoot({ directory: dir, secrets })] };
      const error = await rejectionOf(
        NestFactory.createApplicationContext(FailingModule, { logger, abortOnError: false }),
      );
      expect(error).toBeInstanceOf(Error);
      captured.push(
        String(error),
        (error as Error).stack ?? '',
        inspect(error, { depth: Infinity }),
        JSON.stringify(error),
      );
    }

    captured.push(logger.text);
    const output = captured.join('\n');
    expect(output).toContain('db_password'); // names are there, values are not
    expect(output).toContain('too short: [redacted]');
    for (const value of [
      DIR_VALUE,
      ENV_FILE_VALUE,
      ENV_VALUE,
      ROTATED_VALUE,
      INVALID_VALUE,
      BINARY.toString(),
    ]) {
      expect(output).not.toContain(value);
      expect(output).not.toContain(encodeURIComponent(value));
      expect(output).not.toContain(value.slice(0, 12));
    }
    expect(JSON.stringify(process.env)).not.toContain(DIR_VALUE);
    expect(JSON.stringify(process.env)).not.toContain(ENV_FILE_VALUE);
  });
});
