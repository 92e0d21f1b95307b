import { gzip as gzipCallback } from 'node:zlib';
import { compress as snappyCompress } from 'snappyjs';
import type { LokiEntry } from './loki-entry.js';
import type { LokiEncoding } from './loki-logger-options.interface.js';
import { nanosString } from './stream-clock.js';

/** A push body ready to send, with its content headers. */
export interface LokiPushBody {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/**
 * Loki push bodies, encoded and compressed: JSON (gzip-compressed unless `gzip: false`, on the libuv
 * threadpool) or protobuf (snappy-compressed, as Loki requires). JSON follows `POST /loki/api/v1/push` (`{"streams":[{"stream":{...},
 * "values":[["<ns>","<line>",{<metadata>}]]}]}`); protobuf follows `logproto.PushRequest`
 * (StreamAdapter{labels=1, entries=2}, EntryAdapter{timestamp=1, line=2, structuredMetadata=3},
 * LabelPairAdapter{name=1, value=2}), encoded by hand: a few dozen lines instead of a runtime schema.
 */
export class LokiPushEncoder {
  /**
   * @param streamLabelsJson per stream, its label set as a JSON object string
   * @param streamSelectors per stream, its label set as a LogQL selector (protobuf form)
   */
  constructor(
    private readonly streamLabelsJson: readonly string[],
    private readonly streamSelectors: readonly string[],
    private readonly encoding: LokiEncoding = 'json',
    private readonly gzip: boolean = true,
  ) {}

  /** The body of a push of `entries`, encoded and compressed, with its content headers. */
  async body(entries: readonly LokiEntry[], withMetadata: boolean): Promise<LokiPushBody> {
    if (this.encoding === 'protobuf') {
      return {
        body: Buffer.from(snappyCompress(this.protobuf(entries, withMetadata))),
        headers: { 'Content-Type': 'application/x-protobuf' },
      };
    }
    const json = Buffer.from(this.json(entries, withMetadata), 'utf8');
    if (!this.gzip) return { body: json, headers: { 'Content-Type': 'application/json' } };
    return {
      body: await gzipAsync(json),
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
    };
  }

  json(entries: readonly LokiEntry[], withMetadata: boolean): string {
    const groups = this.group(entries);
    const streams: string[] = [];
    for (const [stream, list] of groups) {
      const values: string[] = [];
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        let value = `["${nanosString(e.ms, e.sub)}",${JSON.stringify(e.line)}`;
        if (withMetadata && e.metadata !== undefined) {
          const md: Record<string, string> = {};
          for (const [k, v] of e.metadata) md[k] = v;
          value += `,${JSON.stringify(md)}`;
        }
        values.push(`${value}]`);
      }
      streams.push(`{"stream":${this.streamLabelsJson[stream]},"values":[${values.join(',')}]}`);
    }
    return `{"streams":[${streams.join(',')}]}`;
  }

  protobuf(entries: readonly LokiEntry[], withMetadata: boolean): Buffer {
    const groups = this.group(entries);
    const w = new ProtoWriter();
    for (const [stream, list] of groups) {
      const selector = Buffer.from(this.streamSelectors[stream]!, 'utf8');
      const encoded = list.map((e) => encodeEntry(e, withMetadata));
      let streamLen = fieldLen(selector.length);
      for (const entry of encoded) streamLen += fieldLen(entry.length);
      w.tag(1, 2).varint(streamLen);
      w.tag(1, 2).varint(selector.length).bytes(selector);
      for (const entry of encoded) w.tag(2, 2).varint(entry.length).bytes(entry);
    }
    return w.finish();
  }

  private group(entries: readonly LokiEntry[]): Map<number, LokiEntry[]> {
    const groups = new Map<number, LokiEntry[]>();
    for (const e of entries) {
      let list = groups.get(e.stream);
      if (list === undefined) groups.set(e.stream, (list = []));
      list.push(e);
    }
    return groups;
  }
}

function encodeEntry(e: LokiEntry, withMetadata: boolean): Buffer {
  const seconds = Math.floor(e.ms / 1000);
  const nanos = (e.ms - seconds * 1000) * 1_000_000 + e.sub;
  const tsLen = 1 + varintLen(seconds) + (nanos > 0 ? 1 + varintLen(nanos) : 0);
  const line = Buffer.from(e.line, 'utf8');
  const pairs: Buffer[][] = [];
  if (withMetadata && e.metadata !== undefined) {
    for (const [k, v] of e.metadata) pairs.push([Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')]);
  }
  const w = new ProtoWriter();
  w.tag(1, 2).varint(tsLen).tag(1, 0).varint(seconds);
  if (nanos > 0) w.tag(2, 0).varint(nanos);
  w.tag(2, 2).varint(line.length).bytes(line);
  for (const [name, value] of pairs) {
    w.tag(3, 2).varint(fieldLen(name!.length) + fieldLen(value!.length));
    w.tag(1, 2).varint(name!.length).bytes(name!);
    w.tag(2, 2).varint(value!.length).bytes(value!);
  }
  return w.finish();
}

/** Bytes of a length-delimited field with a one-byte tag. */
const fieldLen = (len: number): number => 1 + varintLen(len) + len;

function varintLen(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

class ProtoWriter {
  private readonly chunks: Buffer[] = [];
  private scratch: number[] = [];

  tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  varint(n: number): this {
    // Numbers here stay below 2^53; division keeps them exact past 2^31.
    while (n >= 128) {
      this.scratch.push((n % 128) | 128);
      n = Math.floor(n / 128);
    }
    this.scratch.push(n);
    return this;
  }

  bytes(b: Buffer): this {
    this.flushScratch();
    this.chunks.push(b);
    return this;
  }

  finish(): Buffer {
    this.flushScratch();
    return Buffer.concat(this.chunks);
  }

  private flushScratch(): void {
    if (this.scratch.length > 0) {
      this.chunks.push(Buffer.from(this.scratch));
      this.scratch = [];
    }
  }
}

function gzipAsync(body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    gzipCallback(body, (err, out) => (err ? reject(err) : resolve(out))),
  );
}
