import { EntryQueue } from '../../libs/loki-logger/src/entry-queue.js';
import type { LokiEntry } from '../../libs/loki-logger/src/loki-entry.js';

const entry = (line: string): LokiEntry => ({
  ms: 1,
  sub: 0,
  line,
  metadata: undefined,
  stream: 0,
  size: line.length,
});

describe('EntryQueue (unit)', () => {
  it('keeps entries in order with sequence numbers, sizes and a byte sum', () => {
    const q = new EntryQueue();
    for (const line of ['a', 'bb', 'ccc']) q.push(entry(line));
    expect([q.length, q.bytes, q.firstSeq, q.endSeq]).toEqual([3, 6, 0, 3]);
    expect(q.dropOldest()!.line).toBe('a');
    expect([q.length, q.bytes, q.firstSeq, q.endSeq]).toEqual([2, 5, 1, 3]);
  });

  it('peeks a batch by count and bytes, always at least one entry', () => {
    const q = new EntryQueue();
    for (const line of ['aaaa', 'bbbb', 'cccc']) q.push(entry(line));
    expect(q.peek(2, 1000)).toMatchObject({ endSeq: 2, entries: [{ line: 'aaaa' }, { line: 'bbbb' }] });
    expect(q.peek(10, 9)).toMatchObject({ endSeq: 2 });
    expect(q.peek(10, 1)).toMatchObject({ endSeq: 1, entries: [{ line: 'aaaa' }] });
    expect(q.length).toBe(3); // peeking removes nothing
  });

  it('removes a batch by sequence, even after older entries were dropped meanwhile', () => {
    const q = new EntryQueue();
    for (const line of ['a', 'b', 'c', 'd']) q.push(entry(line));
    const { endSeq } = q.peek(3, 1000); // a, b, c in flight
    q.dropOldest(); // overflow drops "a" while the push is pending
    expect(q.removeBefore(endSeq)).toBe(2); // b and c: what is left of the batch
    expect(q.peek(10, 1000).entries.map((e) => e.line)).toEqual(['d']);
    expect([q.firstSeq, q.endSeq, q.bytes]).toEqual([3, 4, 1]);
  });

  it('stays consistent across compaction of a long queue', () => {
    const q = new EntryQueue();
    for (let i = 0; i < 10_000; i++) q.push(entry(String(i % 10)));
    for (let i = 0; i < 6000; i++) q.dropOldest();
    expect([q.length, q.bytes, q.firstSeq]).toEqual([4000, 4000, 6000]);
    expect(q.peek(1, 10).entries[0]!.line).toBe('0');
    expect(q.removeBefore(q.endSeq)).toBe(4000);
    expect([q.length, q.bytes, q.dropOldest()]).toEqual([0, 0, undefined]);
  });
});
