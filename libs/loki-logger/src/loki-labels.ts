/** Loki's label name syntax; `__`-prefixed names are reserved. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Loki's default `max_label_names_per_series`. */
export const MAX_LABELS = 15;
/** Loki's default `max_label_value_length`. */
const MAX_LABEL_VALUE_LENGTH = 2048;

/** Throws when a label set would be rejected by Loki (checked at boot, not per push). */
export function validateLabels(labels: Record<string, string>): void {
  const names = Object.keys(labels);
  if (names.length > MAX_LABELS) {
    throw new Error(`Loki labels: ${names.length} labels, at most ${MAX_LABELS} are accepted by Loki`);
  }
  for (const name of names) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      throw new Error(
        `Loki labels: invalid label name "${name}" (must match [a-zA-Z_][a-zA-Z0-9_]* without a __ prefix)`,
      );
    }
    const value = labels[name];
    if (typeof value !== 'string' || value.length === 0) {
      throw new Error(`Loki labels: label "${name}" needs a non-empty string value`);
    }
    if (value.length > MAX_LABEL_VALUE_LENGTH) {
      throw new Error(`Loki labels: value of "${name}" is longer than ${MAX_LABEL_VALUE_LENGTH} characters`);
    }
  }
}

/** The protobuf form of a label set: a LogQL stream selector, values escaped as Go string literals. */
export function labelSelector(labels: Record<string, string>): string {
  const pairs = Object.keys(labels)
    .toSorted()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`);
  return `{${pairs.join(', ')}}`;
}
