import { Logger } from '@nestjs/common';

// Shorter fields of a parsed document ("db", "u", "5432") would mask unrelated text in every log line.
const MIN_PARSED_LEAF_LENGTH = 4;

/**
 * Every value ever loaded (old ones too: they may still sit in buffers or error text), in each form a
 * log line may show it, and the listeners to call when the list grows. Values live in private fields
 * only. Internal: apps reach it through `SecretsService` as the `SecretRedactionSource`.
 */
export class SecretRedactionRegistry {
  readonly #logger = new Logger('SecretsModule');
  readonly #values = new Set<string>();
  #list: readonly string[] = [];
  readonly #listeners = new Set<() => void>();

  /**
   * Adds a loaded secret: its text (or the UTF-8 form of its bytes), every string of 4+ characters
   * inside its parsed value, and the URL-encoded form of each (passwords end up inside connection
   * URLs in log lines). Listeners are called once when anything is new.
   */
  add(text: string, parsed: unknown): void {
    const forms: string[] = [];
    for (const form of [text, ...stringLeaves(parsed, new Set())]) {
      if (form.length === 0) continue;
      forms.push(form);
      const encoded = encodeURIComponent(form);
      if (encoded !== form) forms.push(encoded);
    }
    let added = false;
    for (const form of forms) {
      if (!this.#values.has(form)) {
        this.#values.add(form);
        added = true;
      }
    }
    if (!added) return;
    this.#list = Object.freeze([...this.#values]);
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (error) {
        this.#logger.error(
          `A redaction listener threw ${error instanceof Error ? error.name : typeof error}.`,
        );
      }
    }
  }

  /** Whether `value` is (a form of) a loaded secret. */
  has(value: string): boolean {
    return this.#values.has(value);
  }

  values(): readonly string[] {
    return this.#list;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
}

/** Every string of 4+ characters inside a parsed value (a credentials document's fields are secrets too). */
function stringLeaves(value: unknown, seen: Set<unknown>): string[] {
  if (typeof value === 'string') return value.length >= MIN_PARSED_LEAF_LENGTH ? [value] : [];
  if (value === null || typeof value !== 'object' || seen.has(value) || Buffer.isBuffer(value)) return [];
  seen.add(value);
  return Object.values(value).flatMap((child) => stringLeaves(child, seen));
}
