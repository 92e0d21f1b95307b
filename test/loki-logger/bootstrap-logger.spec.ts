import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createBootstrapLogger, LokiLogger, LokiLoggerModule } from '@bastion/loki-logger';
import { SecretsModule } from '@bastion/secrets';
import { useTempDir } from '../support/use-temp-dir.js';
import { CaptureStream } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/boot-fail-exit.ts', import.meta.url));

// oxlint-disable-next-line no-extraneous-class -- a provider nobody registers
class Missing {}

@Injectable()
class NeedsMissing {
  constructor(readonly missing: Missing) {}
}

/** `Nest can't resolve dependencies of the NeedsMissing (?)`. */
@Module({ providers: [NeedsMissing] })
class UnresolvableModule {}

/** An app whose config provider rejects with `error`. */
function failingApp(error: Error): unknown {
  @Module({ providers: [{ provide: 'CONFIG', useFactory: () => Promise.reject(error) }] })
  class FailingApp {}
  return FailingApp;
}

/** The app's own typed boot error (the sample app's AppConfigError). */
class AppConfigError extends Error {
  override readonly name = 'AppConfigError';
}

/**
 * Boots `module` exactly as the README's main.ts recipe does and reports the failure. Returns the
 * records written to the bootstrap logger's stream.
 */
async function bootAndFail(
  module: unknown,
  options: Parameters<typeof createBootstrapLogger>[0] = { service: 'orders' },
  afterCreate?: (app: Awaited<ReturnType<typeof NestFactory.create>>) => Promise<void>,
): Promise<{ records: Array<Record<string, any>>; text: string; failure: unknown }> {
  const out = new CaptureStream();
  const bootLogger = createBootstrapLogger({ env: 'test', stream: out, ...options });
  let failure: unknown;
  try {
    const app = await NestFactory.create(module as never, {
      logger: bootLogger,
      bufferLogs: true,
      abortOnError: false,
      autoFlushLogs: false,
    });
    await afterCreate?.(app);
    throw new Error('the boot was expected to fail');
  } catch (err) {
    failure = err;
    await bootLogger.bootFailed(err);
  }
  return { records: out.records(), text: out.text(), failure };
}

afterEach(() => {
  // bootFailed() leaves Nest's buffer attached (the process exits): give the next test a clean one.
  Logger.flush();
});

describe('createBootstrapLogger() + bootFailed(): the main.ts recipe', () => {
  const tempDir = useTempDir('bastion-boot-');

  it('writes Nest\'s "can\'t resolve dependencies" as one fatal JSON line, typed, without a stack', async () => {
    const { records, text } = await bootAndFail(UnresolvableModule);
    // Everything is JSON, Nest's buffered boot lines included, and comes before the failure.
    expect(records[0]).toMatchObject({ level: 'info', message: 'Starting Nest application...' });
    const failures = records.filter((r) => r.level === 'error' || r.level === 'fatal');
    expect(failures).toHaveLength(1); // Nest's ExceptionHandler copy is not written
    expect(records.at(-1)).toBe(failures[0]);
    const line = failures[0]!;
    expect(line).toMatchObject({ level: 'fatal', context: 'Bootstrap', service: 'orders', env: 'test' });
    expect(line.error.name).toBe('UnknownDependenciesException');
    expect(line.error.message).toContain("Nest can't resolve dependencies of the NeedsMissing (?)");
    expect(line.message).toBe(`failed to start: ${line.error.message}`);
    expect(line.error.stack).toBeUndefined();
    expect(text).not.toMatch(/\n\s+at /);
    expect(text).not.toContain('\x1b[');
  });

  it("writes a lib's typed boot error (SecretsLoadError) with its name and fields, without a stack", async () => {
    const dir = tempDir();
    @Module({
      imports: [
        SecretsModule.forRoot({
          directory: dir,
          secrets: [{ name: 'db_password', required: true, env: false }],
        }),
      ],
    })
    class SecretsApp {}
    const { records, failure } = await bootAndFail(SecretsApp);
    expect((failure as Error).name).toBe('SecretsLoadError');
    const failures = records.filter((r) => r.level === 'error' || r.level === 'fatal');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.error).toMatchObject({
      name: 'SecretsLoadError',
      problems: [{ name: 'db_password', kind: 'missing' }],
    });
    expect(failures[0]!.error.stack).toBeUndefined();
  });

  it("keeps the stack of an unexpected error; the app's own expected errors lose it", async () => {
    const bug = await bootAndFail(
      failingApp(new TypeError("Cannot read properties of undefined (reading 'port')")),
    );
    expect(bug.records.at(-1)!.error).toMatchObject({ name: 'TypeError' });
    expect(bug.records.at(-1)!.error.stack).toMatch(/\n\s+at /);

    const config = await bootAndFail(failingApp(new AppConfigError('PORT must be an integer')), {
      service: 'orders',
      expectedErrors: [AppConfigError],
    });
    expect(config.records.at(-1)!.error).toEqual({
      name: 'AppConfigError',
      message: 'PORT must be an integer',
    });
    const byName = await bootAndFail(failingApp(new AppConfigError('PORT must be an integer')), {
      service: 'orders',
      expectedErrors: ['AppConfigError'],
    });
    expect(byName.records.at(-1)!.error.stack).toBeUndefined();
  });

  it('redacts the failure line: sensitive keys and known values', async () => {
    class ConnectError extends Error {
      override readonly name = 'RedisSentinelConfigError';
      readonly sentinelPassword = 'p4ssw0rd-in-a-field';
    }
    @Module({
      providers: [
        {
          provide: 'X',
          useFactory: () => {
            throw new ConnectError('could not log in with very-secret-value-1');
          },
        },
      ],
    })
    class LeakyApp {}
    const { records, text } = await bootAndFail(LeakyApp, {
      service: 'orders',
      redactValues: ['very-secret-value-1'],
    });
    expect(records.at(-1)!.error).toEqual({
      name: 'RedisSentinelConfigError',
      message: 'could not log in with [REDACTED]',
      sentinelPassword: '[REDACTED]',
    });
    expect(text).not.toContain('very-secret-value-1');
    expect(text).not.toContain('p4ssw0rd');
  });

  it('reads an unknown level as info instead of failing on the configuration it must report', () => {
    const out = new CaptureStream();
    const logger = createBootstrapLogger({ service: 'orders', level: 'verbsoe', stream: out });
    logger.debug('not written');
    logger.log('written');
    expect(out.records().map((r) => r.message)).toEqual(['written']);
  });

  it('writes a failure after app.useLogger() through the app logger (which masks its secret values)', async () => {
    const appOut = new CaptureStream();
    @Injectable()
    class StartsLate implements OnModuleInit {
      onModuleInit(): void {
        throw new AppConfigError('startup failed with app-only-secret-42');
      }
    }
    @Module({
      imports: [
        LokiLoggerModule.forRoot({ service: 'orders', stream: appOut, redactValues: ['app-only-secret-42'] }),
      ],
      providers: [StartsLate],
    })
    class LateApp {}
    const { records } = await bootAndFail(
      LateApp,
      { service: 'orders', expectedErrors: [AppConfigError] },
      async (app) => {
        app.useLogger(app.get(LokiLogger));
        app.flushLogs();
        await app.init();
      },
    );
    expect(records.filter((r) => r.level === 'fatal')).toHaveLength(0);
    const line = appOut.records().at(-1)!;
    expect(line).toMatchObject({ level: 'fatal', context: 'Bootstrap' });
    expect(line.error).toEqual({ name: 'AppConfigError', message: 'startup failed with [REDACTED]' });
  });

  it('loses nothing when the process exits right after bootFailed(), even on a pipe not read yet', async () => {
    const lines = 3000; // ~1.3 MB: far past a pipe's buffer
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, String(lines)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    // Stop reading after the first chunk: the pipe fills and the child's last lines wait in its memory.
    child.stdout.once('data', () => {
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 500);
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(1);
    const records = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    expect(records).toHaveLength(lines + 1);
    expect(records.at(-1)).toMatchObject({ level: 'fatal', error: { name: 'SecretsLoadError' } });
  });
});
