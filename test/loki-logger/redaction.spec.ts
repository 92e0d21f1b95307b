import 'reflect-metadata';
import { inspect } from 'node:util';
import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  LokiLogger,
  LokiLoggerModule,
  runWithLogContext,
  type SecretRedactionSource,
} from '@bastion/loki-logger';
import { FakeLoki } from '../fake-loki/fake-loki.js';
import { CaptureStream, createLogger } from './helpers.js';

/** A registry like SecretsService's: every value ever loaded, listeners called on rotation. */
class TestSecrets implements SecretRedactionSource {
  private readonly all = ['db-pa$$w0rd"quoted\\'];
  private readonly listeners = new Set<() => void>();
  values(): readonly string[] {
    return this.all;
  }
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  rotate(value: string): void {
    this.all.push(value);
    for (const l of this.listeners) l();
  }
  get listenerCount(): number {
    return this.listeners.size;
  }
}

describe('redaction', () => {
  const secrets = new TestSecrets();
  const out = new CaptureStream();
  let fake: FakeLoki;
  let logger: LokiLogger;
  let close: () => Promise<void>;

  @Global()
  @Module({
    // The key spelled out, as another copy of @bastion/secrets would: no class token to match.
    providers: [{ provide: Symbol.for('@bastion/secrets:redaction-source'), useValue: secrets }],
    exports: [Symbol.for('@bastion/secrets:redaction-source')],
  })
  // oxlint-disable-next-line no-extraneous-class -- a Nest module is declared by its decorator
  class TestSecretsModule {}

  beforeAll(async () => {
    fake = await FakeLoki.start();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TestSecretsModule,
        LokiLoggerModule.forRoot({ service: 'billing', env: 'test', stream: out, loki: { url: fake.url } }),
      ],
    }).compile();
    await moduleRef.init();
    logger = moduleRef.get(LokiLogger);
    close = () => moduleRef.close();
  });
  afterAll(async () => {
    await close();
    await fake.close();
  });

  const SECRET = 'db-pa$$w0rd"quoted\\';

  it('masks a registered secret in the message, nested metadata and an error message and stack', async () => {
    logger.log(`connecting with ${SECRET}`, 'Db');
    logger.warn(
      'retrying',
      { attempt: 2, conn: { dsn: `postgres://app:${SECRET}@db/x`, list: [SECRET] } },
      'Db',
    );
    const err = new Error(`auth failed for ${SECRET}`);
    logger.error(err, 'Db');
    logger.error('wrapped', new Error('outer', { cause: new Error(`inner ${SECRET}`) }), 'Db');
    await logger.flush(3000);
    const text = out.text();
    expect(text).not.toContain('db-pa$$w0rd');
    const recs = out.records();
    expect(recs[0]!.message).toBe('connecting with [REDACTED]');
    expect(recs[1]!.conn).toEqual({ dsn: 'postgres://app:[REDACTED]@db/x', list: ['[REDACTED]'] });
    const e = recs[2]!.error as { name: string; message: string; stack: string };
    expect(e.name).toBe('Error');
    expect(e.message).toBe('auth failed for [REDACTED]');
    expect(typeof e.stack).toBe('string');
    expect(e.stack).toMatch(/^Error: auth failed for \[REDACTED\]\n\s+at /);
    expect(JSON.stringify(recs[3]!.error)).toContain('inner [REDACTED]');
    // The same masked lines are what Loki received.
    expect(fake.lines().join('\n')).not.toContain('db-pa$$w0rd');
    expect(fake.lines()).toHaveLength(4);
  });

  it('masks a value rotated in later (matcher rebuilt on the registry callback), old ones stay masked', () => {
    expect(secrets.listenerCount).toBe(1);
    logger.log('new-rotated-value before rotation');
    secrets.rotate('new-rotated-value');
    logger.log(`after rotation: new-rotated-value and ${SECRET}`);
    const recs = out.records();
    expect(recs.at(-2)!.message).toBe('new-rotated-value before rotation');
    expect(recs.at(-1)!.message).toBe('after rotation: [REDACTED] and [REDACTED]');
  });

  it('masks sensitive keys at any depth, case-insensitively, and key=value pairs in free text', () => {
    runWithLogContext({ requestId: 'r' }, () =>
      logger.log('request headers', {
        headers: { Authorization: 'Bearer abc.def', COOKIE: 'sid=1', accept: 'json' },
        user: { name: 'ann', Password: 'pw', dbPassword: 'pw2', apikey: 'k', profile: { refreshToken: 't' } },
        items: [{ secret: 's' }],
      }),
    );
    logger.log('login failed for ann password=hunter22 Authorization: Bearer zzz.yyy');
    const [rec, text] = out.records().slice(-2);
    expect(rec).toMatchObject({
      headers: { Authorization: '[REDACTED]', COOKIE: '[REDACTED]', accept: 'json' },
      user: {
        name: 'ann',
        Password: '[REDACTED]',
        dbPassword: '[REDACTED]',
        apikey: '[REDACTED]',
        profile: { refreshToken: '[REDACTED]' },
      },
      items: [{ secret: '[REDACTED]' }],
    });
    expect(text!.message).toBe('login failed for ann password=[REDACTED] Authorization: [REDACTED]');
  });

  it('keeps JSON embedded in a message valid: only the sensitive scalar is masked', () => {
    // Terminus logs its failed health result as JSON in the message: the redactor once ate `{`.
    // Names as values (the secrets indicator's shape) stay readable; sensitive keys' values do not.
    logger.log(
      'Health Check has failed! {"secrets":{"sources":{"directory":["db_password"]},' +
        '"unreadable":["db_password"]},"db_password":"directory","token":"t0k3n"}',
    );
    const message = out.records().at(-1)!.message as string;
    const json = JSON.parse(message.slice(message.indexOf('{')));
    expect(json).toEqual({
      secrets: { sources: { directory: ['db_password'] }, unreadable: ['db_password'] },
      db_password: '[REDACTED]',
      token: '[REDACTED]',
    });
  });

  it('never shows a secret or a credential when the logger is inspected', async () => {
    const fakeUrl = `http://user:url-pass-123@127.0.0.1:${fake.port}`;
    const { logger: other } = createLogger({
      redactValues: ['static-value-123'],
      loki: {
        url: fakeUrl,
        username: 'loki',
        password: 'basic-pass-123',
        headers: { 'X-Api-Key': 'header-key-123' },
      },
    });
    // The registry's secret (also in regex-escaped form: test a fragment), and every credential.
    expect(inspect(logger, { depth: Infinity })).not.toContain('w0rd');
    const text = inspect(other, { depth: Infinity });
    for (const secret of ['static-value-123', 'url-pass-123', 'basic-pass-123', 'header-key-123']) {
      expect(text).not.toContain(secret);
    }
    await other.onApplicationShutdown();
  });

  it('unsubscribes from the registry on shutdown', async () => {
    const { logger: other } = createLogger();
    expect(other.stats()).toBeUndefined();
    await close();
    expect(secrets.listenerCount).toBe(0);
    close = async () => {};
  });
});
