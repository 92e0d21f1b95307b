import protobuf from 'protobufjs';

/**
 * Loki's push schema (pkg/push/push.proto, logproto): decoded here with protobufjs, independently
 * of the library's hand-written encoder. `legacy` drops `structuredMetadata` (field 3), as Loki
 * 2.x's schema has no such field: its decoder skips it.
 */
const schema = (legacy: boolean): string => `
syntax = "proto3";
package logproto;
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message PushRequest { repeated StreamAdapter streams = 1; }
message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
message EntryAdapter {
  Timestamp timestamp = 1;
  string line = 2;
  ${legacy ? '' : 'repeated LabelPairAdapter structuredMetadata = 3;'}
}
message LabelPairAdapter { string name = 1; string value = 2; }
`;

export interface DecodedEntry {
  tsNs: bigint;
  line: string;
  metadata: Record<string, string>;
}

export interface DecodedStream {
  labels: string;
  entries: DecodedEntry[];
}

const types = new Map<boolean, protobuf.Type>();

function pushRequestType(legacy: boolean): protobuf.Type {
  let t = types.get(legacy);
  if (!t) {
    t = protobuf.parse(schema(legacy)).root.lookupType('logproto.PushRequest');
    types.set(legacy, t);
  }
  return t;
}

export function decodePushRequest(body: Uint8Array, legacy: boolean): DecodedStream[] {
  const type = pushRequestType(legacy);
  const obj = type.toObject(type.decode(body), { longs: String, defaults: true, arrays: true }) as {
    streams: Array<{
      labels: string;
      entries: Array<{
        timestamp?: { seconds: string; nanos: number };
        line: string;
        structuredMetadata?: Array<{ name: string; value: string }>;
      }>;
    }>;
  };
  return obj.streams.map((s) => ({
    labels: s.labels,
    entries: s.entries.map((e) => ({
      tsNs: BigInt(e.timestamp?.seconds ?? '0') * 1_000_000_000n + BigInt(e.timestamp?.nanos ?? 0),
      line: e.line,
      metadata: Object.fromEntries((e.structuredMetadata ?? []).map((p) => [p.name, p.value])),
    })),
  }));
}
