import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { LokiLoggerConfigError, LokiLoggerModule, LokiTransport } from '@bastion/loki-logger';
import { CaptureStream, createLogger } from './helpers.js';

/** The problems of a config error thrown by `fn` (fails the test when `fn` does not throw one). */
function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LokiLoggerConfigError);
    expect((err as Error).name).toBe('LokiLoggerConfigError');
    return (err as LokiLoggerConfigError).problems;
  }
  throw new Error('expected a LokiLoggerConfigError');
}

describe('LokiLogger option errors', () => {
  it('a URL without scheme names the option, the problem and a valid example', () => {
    const problems = problemsOf(() => createLogger({ loki: { url: 'loki:3100' } }));
    expect(problems).toEqual([
      'loki.url "loki:3100" is not an http(s) URL (the scheme is missing): ' +
        'expected the base URL of Loki or its gateway, e.g. "http://loki:3100"',
    ]);
    expect(problemsOf(() => createLogger({ loki: { url: 'loki 3100' } }))[0]).toMatch(
      /^loki\.url "loki 3100" is not an http\(s\) URL \(the scheme is missing\)/,
    );
    // The transport used on its own says the same.
    expect(
      problemsOf(() => new LokiTransport({ url: 'ftp://loki:3100' }, { service: 's', env: 'e' })),
    ).toEqual([
      expect.stringMatching(/^loki\.url "ftp:\/\/loki:3100" is not an http\(s\) URL: .*"http:\/\/loki:3100"/),
    ]);
  });

  it('never shows credentials embedded in a bad URL', () => {
    const cases = [
      ['ftp://alice:url-pass-1@loki:3100', 'ftp://***@loki:3100'],
      ['alice:url-pass-1@loki:3100', '***@loki:3100'], // no scheme: user:password parses as scheme:path
      ['loki:3100/?token=url-pass-1', 'loki:3100/?…'],
      ['ftp://alice:url@pass-1@loki', 'ftp://***@loki'], // an unencoded @ in the password
    ] as const;
    for (const [url, shown] of cases) {
      const problems = problemsOf(() => createLogger({ loki: { url } }));
      expect(problems[0]).toContain(`"${shown}"`);
      expect(problems.join('\n')).not.toMatch(/url-pass|pass-1|alice/);
    }
  });

  it('lists every problem of the module options at once, through Nest', async () => {
    const boot = Test.createTestingModule({
      imports: [
        LokiLoggerModule.forRoot({
          service: '',
          level: 'loud' as never,
          stream: new CaptureStream(),
          loki: { url: 'loki:3100', labels: { 'bad-name': 'x' } },
        }),
      ],
    }).compile();
    const err = await boot.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LokiLoggerConfigError);
    const { problems, message } = err as LokiLoggerConfigError;
    expect(problems).toEqual([
      'service must be a non-empty string (got ""), the service name on every line and label; e.g. "orders"',
      'level must be one of fatal, error, warn, info, debug, verbose (got "loud"); e.g. "info"',
      expect.stringMatching(/^loki\.url "loki:3100" is not an http\(s\) URL/),
      'loki.labels has an invalid label name "bad-name" (must match [a-zA-Z_][a-zA-Z0-9_]* without a __ prefix); e.g. "bad_name"',
    ]);
    expect(message.split('\n')[0]).toBe('Invalid LokiLoggerModule options:');
  });
});

describe('LokiLogger options: no silent defaults', () => {
  it('reports every out-of-range or mistyped option at once instead of swapping in a default', () => {
    const problems = problemsOf(() =>
      createLogger({
        format: 'yaml' as never,
        minRedactLength: 0,
        requestContext: { excludeFromRequestLog: '/health' as never },
        loki: {
          url: 'http://loki:3100',
          batchMaxEntries: 0,
          batchIntervalMs: Number.NaN,
          maxBufferBytes: '8MiB' as never,
          minBackoffMs: 60_000,
          maxBackoffMs: 30_000,
          encoding: 'msgpack' as never,
        },
      }),
    );
    expect(problems).toEqual([
      'format must be "json" or "pretty" (got "yaml"); e.g. "pretty"',
      'minRedactLength must be a positive integer (got 0); e.g. 4, or leave it unset for that default',
      'requestContext.excludeFromRequestLog must be an array of strings (got "/health"); e.g. ["/health*"]',
      'loki.encoding must be "json" or "protobuf" (got "msgpack"); e.g. "protobuf"',
      'loki.batchMaxEntries must be a positive integer (got 0); e.g. 5000, or leave it unset for that default',
      'loki.batchIntervalMs must be a positive integer (got NaN); e.g. 1000, or leave it unset for that default',
      'loki.maxBufferBytes must be a positive integer (got "8MiB"); e.g. 8388608, or leave it unset for that default',
      'loki.minBackoffMs (60000) is above loki.maxBackoffMs (30000): the first retry delay cannot exceed the longest one; e.g. minBackoffMs 500 with maxBackoffMs 30000',
    ]);
    // Never `path:` (a logger's key=value rule would mask what follows a sensitive-looking key).
    for (const problem of problems) expect(problem).not.toMatch(/^[\w.[\]]+[:=]/);
  });

  it('says credentials are set, or of the wrong type, never what they are', () => {
    const problems = problemsOf(() =>
      createLogger({
        loki: {
          url: 'http://loki:3100',
          bearerToken: 'tok-secret-1',
          password: 'pw-secret-1',
          username: 'u',
        },
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^loki\.bearerToken is set together with loki\.username/),
    ]);
    const typed = problemsOf(() =>
      createLogger({ loki: { url: 'http://loki:3100', username: 'u', password: 12345678 as never } }),
    );
    expect(typed[0]).toBe(
      "loki.password must be a string or a function returning one (got a number); e.g. () => secrets.get('loki_password')",
    );
    expect([...problems, ...typed].join('\n')).not.toMatch(/secret-1|12345678/);
  });

  it('leaves shipping off, unchecked, when loki.url is not set (the documented switch)', () => {
    expect(() => createLogger({ loki: { url: '', batchMaxEntries: 0 } })).not.toThrow();
  });
});
