/**
 * (A copy of the test harness's tools/redis-topology/src/cluster-key-slot.ts: the lib depends on no test tool.)
 *
 * The hash slot of a key, as the Redis Cluster specification defines it: CRC16 (XMODEM:
 * polynomial 0x1021, initial value 0) of the key's bytes, modulo 16384. When the key holds a
 * non-empty hash tag (the bytes between the first `{` and the first `}` after it), only the tag
 * is hashed: that is how related keys are kept on one slot.
 *
 * Not the `cluster-key-slot` package that ioredis routes with: after an empty tag it hashes the
 * wrong bytes (`foo{}{bar}`: Redis hashes the whole key, it hashes `{bar`), so `WAIT` could run on
 * another master than the one that took the write. A harness spec checks this against `CLUSTER KEYSLOT`.
 */
export const CLUSTER_SLOTS = 16_384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** CRC16/XMODEM of `bytes`. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/** The hash slot (0..16383) of `key`; a string key is hashed as its UTF-8 bytes. */
export function clusterKeySlot(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const open = bytes.indexOf(0x7b); // '{'
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // '}'
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % CLUSTER_SLOTS;
  }
  return crc16(bytes) % CLUSTER_SLOTS;
}

/** Indexes of `keys` grouped by hash slot (in the order each slot first appears). */
export function keysBySlot(keys: readonly string[]): number[][] {
  const groups = new Map<number, number[]>();
  keys.forEach((key, i) => {
    const slot = clusterKeySlot(key);
    const group = groups.get(slot);
    if (group) group.push(i);
    else groups.set(slot, [i]);
  });
  return [...groups.values()];
}
