import { gzipSync } from 'node:zlib';
import { compress as snappyCompress } from 'snappyjs';
import protobuf from 'protobufjs';
import { FakeLoki } from './fake-loki.js';

const nowNs = (): string => `${BigInt(Date.now()) * 1_000_000n}`;

async function pushJson(
  fake: FakeLoki,
  body: unknown,
  gzip = false,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const raw = Buffer.from(JSON.stringify(body));
  const res = await fetch(`${fake.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      ...headers,
    },
    body: gzip ? gzipSync(raw) : raw,
  });
  return { status: res.status, text: await res.text() };
}

describe('fake Loki (self-test of the protocol checks)', () => {
  let fake: FakeLoki;
  afterEach(async () => {
    await fake.close();
  });

  it('accepts a valid JSON push (plain and gzip) and stores entries with labels and metadata', async () => {
    fake = await FakeLoki.start();
    const ts = nowNs();
    expect(
      (await pushJson(fake, { streams: [{ stream: { app: 'a' }, values: [[ts, 'l1', { trace_id: 't' }]] }] }))
        .status,
    ).toBe(204);
    expect(
      (
        await pushJson(
          fake,
          { streams: [{ stream: { app: 'a' }, values: [[`${BigInt(ts) + 1n}`, 'l2']] }] },
          true,
        )
      ).status,
    ).toBe(204);
    expect(fake.entries.map((e) => [e.line, e.metadata])).toEqual([
      ['l1', { trace_id: 't' }],
      ['l2', {}],
    ]);
  });

  it('decodes protobuf + snappy with an independently built message', async () => {
    fake = await FakeLoki.start();
    const root = protobuf.parse(`syntax="proto3";
      message T { int64 seconds = 1; int32 nanos = 2; }
      message P { string name = 1; string value = 2; }
      message E { T timestamp = 1; string line = 2; repeated P structuredMetadata = 3; }
      message S { string labels = 1; repeated E entries = 2; }
      message R { repeated S streams = 1; }`).root;
    const R = root.lookupType('R');
    const msg = R.encode(
      R.create({
        streams: [
          {
            labels: '{app="x", env="a\\"b"}',
            entries: [
              {
                timestamp: { seconds: Math.floor(Date.now() / 1000), nanos: 5 },
                line: 'pb',
                structuredMetadata: [{ name: 'k', value: 'v' }],
              },
            ],
          },
        ],
      }),
    ).finish();
    const res = await fetch(`${fake.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-protobuf' },
      body: snappyCompress(msg),
    });
    expect(res.status).toBe(204);
    expect(fake.entries[0]).toMatchObject({
      line: 'pb',
      labels: { app: 'x', env: 'a"b' },
      metadata: { k: 'v' },
    });
  });

  it('rejects invalid labels and timestamps with 400, keeping the valid part', async () => {
    fake = await FakeLoki.start();
    const r1 = await pushJson(fake, {
      streams: [
        { stream: { 'bad-name': 'x' }, values: [[nowNs(), 'x']] },
        {
          stream: { app: 'ok' },
          values: [
            [nowNs(), 'kept'],
            ['1000', 'ancient'],
          ],
        },
      ],
    });
    expect(r1.status).toBe(400);
    expect(r1.text).toMatch(/invalid label/);
    expect(r1.text).toMatch(/timestamp too old/);
    expect(fake.lines()).toEqual(['kept']);
    expect(
      (await pushJson(fake, { streams: [{ stream: { app: 'ok' }, values: [[1, 'number ts']] }] })).status,
    ).toBe(400);
  });

  it('enforces the rate limit: a push over the burst gets 429 however often it is retried; the bucket refills', async () => {
    fake = await FakeLoki.start({ ingestionRateBytes: 10_000, burstBytes: 20_000 });
    const big = { streams: [{ stream: { app: 'a' }, values: [[nowNs(), 'x'.repeat(25_000)]] }] };
    for (let i = 0; i < 3; i++) expect((await pushJson(fake, big)).status).toBe(429);
    const chunk = (s: string) => ({
      streams: [{ stream: { app: 'a' }, values: [[nowNs(), s.repeat(15_000)]] }],
    });
    expect((await pushJson(fake, chunk('a'))).status).toBe(204);
    const limited = await pushJson(fake, chunk('b'));
    expect(limited.status).toBe(429);
    expect(limited.text).toMatch(/Ingestion rate limit exceeded for user fake \(limit: 10000 bytes\/sec\)/);
    await new Promise((r) => setTimeout(r, 1100)); // +11 000 tokens
    expect((await pushJson(fake, chunk('c'))).status).toBe(204);
  });

  it('answers a push with structured metadata with 400 in Loki 2.x mode', async () => {
    fake = await FakeLoki.start({ legacy2x: true });
    const r = await pushJson(fake, {
      streams: [{ stream: { app: 'a' }, values: [[nowNs(), 'l', { k: 'v' }]] }],
    });
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/structured metadata, but this feature is disallowed/);
    expect(
      (await pushJson(fake, { streams: [{ stream: { app: 'a' }, values: [[nowNs(), 'l']] }] })).status,
    ).toBe(204);
  });

  it('injects faults: status with Retry-After, hang, refused connections', async () => {
    fake = await FakeLoki.start();
    fake.failNext({ kind: 'status', status: 429, retryAfter: '3' });
    const res = await fetch(`${fake.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"streams":[]}',
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    fake.failNext({ kind: 'hang' });
    await expect(
      fetch(`${fake.url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"streams":[]}',
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow();
    expect(fake.hung).toBe(1);
    await fake.refuse();
    await expect(fetch(`${fake.url}/ready`)).rejects.toThrow();
    await fake.accept();
    expect((await fetch(`${fake.url}/ready`)).status).toBe(200);
  });
});
