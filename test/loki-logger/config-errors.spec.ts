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
      expect.stringMatching(/^service is required: .*e\.g\. service: 'orders'/),
      expect.stringMatching(
        /^level "loud" is not a level: use one of fatal, error, warn, info, debug, verbose/,
      ),
      expect.stringMatching(/^loki\.url "loki:3100" is not an http\(s\) URL/),
      expect.stringMatching(/^loki\.labels: invalid label name "bad-name"/),
    ]);
    expect(message.split('\n')[0]).toBe('Invalid LokiLoggerModule options:');
  });
});
