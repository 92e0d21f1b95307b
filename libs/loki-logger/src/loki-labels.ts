/** Loki's label name syntax; `__`-prefixed names are reserved. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Loki's default `max_label_names_per_series`. */
export const MAX_LABELS = 15;
/** Loki's default `max_label_value_length`. */
const MAX_LABEL_VALUE_LENGTH = 2048;

/** Why Loki would reject this label set (checked at boot, not per push); empty when it is valid. */
export function labelProblems(labels: Record<string, string>): string[] {
  const problems: string[] = [];
  const names = Object.keys(labels);
  if (names.length > MAX_LABELS) {
    problems.push(
      `loki.labels: ${names.length} labels (with service_name and env), at most ${MAX_LABELS} are accepted by Loki`,
    );
  }
  for (const name of names) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      problems.push(
        `loki.labels: invalid label name "${name}" (must match [a-zA-Z_][a-zA-Z0-9_]* without a __ prefix, e.g. "region")`,
      );
      continue;
    }
    const value = labels[name];
    if (typeof value !== 'string' || value.length === 0) {
      problems.push(`loki.labels: label "${name}" needs a non-empty string value, e.g. "eu-west-1"`);
    } else if (value.length > MAX_LABEL_VALUE_LENGTH) {
      problems.push(`loki.labels: value of "${name}" is longer than ${MAX_LABEL_VALUE_LENGTH} characters`);
    }
  }
  return problems;
}

/** The protobuf form of a label set: a LogQL stream selector, values escaped as Go string literals. */
export function labelSelector(labels: Record<string, string>): string {
  const pairs = Object.keys(labels)
    .toSorted()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`);
  return `{${pairs.join(', ')}}`;
}
