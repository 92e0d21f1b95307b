import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import {
  createBootstrapLogger,
  LokiHealthIndicator,
  LokiLogger,
  LokiLoggerConfigError,
  LokiLoggerModule,
  LokiTransport,
  RequestContextMiddleware,
} from '@bastion/loki-logger';
import { FakeLoki } from '../fake-loki/fake-loki.js';
import { CaptureStream } from './helpers.js';
import { printed } from '../support/printed.js';

// Distinctive credentials: every printable surface below is searched for each of them.
const URL_PASSWORD = 'Url-pw-7Qk2xZ9m';
const PASSWORD = 'Basic-pw-Hn4sT8vL';
const BEARER = 'Bearer-tok-Wc6yR1pD';
const HEADER_KEY = 'Hdr-key-Jm3bF5nQ';
const REDACT_VALUE = 'Literal-Xs8kP2eU';
const SECRETS = [URL_PASSWORD, PASSWORD, BEARER, HEADER_KEY, REDACT_VALUE];

describe('no public field holds a credential', () => {
  let fake: FakeLoki;
  beforeAll(async () => {
    fake = await FakeLoki.start();
  });
  afterAll(() => fake.close());

  it('inspect and JSON.stringify of the logger, the transport, the indicator, the middleware and the errors', async () => {
    const url = fake.url.replace('http://', `http://alice:${URL_PASSWORD}@`);
    const moduleRef = await Test.createTestingModule({
      imports: [
        LokiLoggerModule.forRoot({
          service: 'no-leak',
          env: 'test',
          stream: new CaptureStream(),
          warnIfNoRedactionSource: false,
          redactValues: [REDACT_VALUE],
          loki: {
            url,
            username: 'alice',
            password: PASSWORD,
            headers: { 'X-Api-Key': HEADER_KEY },
            diagnostics: new CaptureStream(),
          },
        }),
      ],
    }).compile();
    await moduleRef.init();
    const logger = moduleRef.get(LokiLogger);
    logger.log({ message: `shipping with ${PASSWORD}`, note: REDACT_VALUE });
    expect(await logger.flush(3000)).toBe(true);
    // The credentials are in use (so the searches below can fail).
    expect(fake.pushes.at(-1)!.headers.authorization).toBe(
      `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`,
    );
    expect(fake.pushes.at(-1)!.headers['x-api-key']).toBe(HEADER_KEY);

    const bearer = new LokiTransport(
      { url: fake.url, bearerToken: () => BEARER, diagnostics: new CaptureStream() },
      { service: 'no-leak', env: 'test' },
    );
    const boot = createBootstrapLogger({
      service: 'no-leak',
      stream: new CaptureStream(),
      redactValues: [REDACT_VALUE],
    });
    const errors: unknown[] = [];
    for (const loki of [
      { url: `ftp://alice:${URL_PASSWORD}@loki:3100` },
      { url: fake.url, password: PASSWORD },
      { url: fake.url, username: 'alice', password: PASSWORD, bearerToken: BEARER },
    ]) {
      try {
        const unbuilt = new LokiLogger({ service: 'no-leak', stream: new CaptureStream(), loki });
        await unbuilt.onApplicationShutdown();
      } catch (err) {
        errors.push(err);
      }
    }
    expect(errors).toHaveLength(3);
    expect(errors.every((e) => e instanceof LokiLoggerConfigError)).toBe(true);

    const output = [
      printed(logger),
      printed(logger.loki),
      printed(logger.stats()),
      printed(bearer),
      printed(moduleRef.get(LokiHealthIndicator)),
      printed(await moduleRef.get(LokiHealthIndicator).isHealthy('loki', { probeReady: true })),
      printed(moduleRef.get(RequestContextMiddleware)),
      printed(boot),
      ...errors.map((e) => `${printed(e)}\n${String(e)}\n${(e as Error).stack}`),
    ].join('\n');
    expect(output).toContain('no-leak'); // the surfaces were printed
    for (const secret of SECRETS) expect(output).not.toContain(secret);

    await bearer.shutdown(1000);
    await moduleRef.close();
  });
});
