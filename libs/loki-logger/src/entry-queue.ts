import type { LokiEntry } from './loki-entry.js';

/**
 * FIFO of entries with sequence numbers. A batch is a sequence range: it stays in the queue until
 * Loki answers, so the memory bound covers the batch in flight, and dropping the oldest entries
 * while a push is pending never confuses which entries that push acknowledged.
 */
export class EntryQueue {
  private items: LokiEntry[] = [];
  private head = 0;
  /** Sequence number of the oldest entry. */
  private headSeq = 0;
  private sizeSum = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.sizeSum;
  }

  /** Sequence number of the oldest entry. */
  get firstSeq(): number {
    return this.headSeq;
  }

  /** Sequence number the next pushed entry gets. */
  get endSeq(): number {
    return this.headSeq + this.length;
  }

  push(entry: LokiEntry): void {
    this.items.push(entry);
    this.sizeSum += entry.size;
  }

  /** Removes the oldest entry. */
  dropOldest(): LokiEntry | undefined {
    if (this.head >= this.items.length) return undefined;
    const entry = this.items[this.head]!;
    this.items[this.head] = undefined as never;
    this.head++;
    this.headSeq++;
    this.sizeSum -= entry.size;
    this.compact();
    return entry;
  }

  /** The oldest entries, at most `maxEntries` and about `maxBytes` (always at least one). */
  peek(maxEntries: number, maxBytes: number): { entries: LokiEntry[]; endSeq: number } {
    const entries: LokiEntry[] = [];
    let bytes = 0;
    for (let i = this.head; i < this.items.length && entries.length < maxEntries; i++) {
      const entry = this.items[i]!;
      if (entries.length > 0 && bytes + entry.size > maxBytes) break;
      entries.push(entry);
      bytes += entry.size;
    }
    return { entries, endSeq: this.headSeq + entries.length };
  }

  /** Removes every entry with a sequence number below `endSeq`; returns how many were removed. */
  removeBefore(endSeq: number): number {
    let removed = 0;
    while (this.headSeq < endSeq && this.head < this.items.length) {
      this.sizeSum -= this.items[this.head]!.size;
      this.items[this.head] = undefined as never;
      this.head++;
      this.headSeq++;
      removed++;
    }
    this.compact();
    return removed;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
