import { LOKI_LOG_LEVEL_NAMES } from './log-levels.js';

/** Loki's label name syntax; `__`-prefixed names are reserved. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Loki's default `max_label_names_per_series`. */
export const MAX_LABELS = 15;
/** Loki's default `max_label_value_length`. */
const MAX_LABEL_VALUE_LENGTH = 2048;

/**
 * Why Loki would reject this label set (checked at boot, not per push), one problem line each; empty
 * when it is valid. `labels` holds `service_name` and `env` too.
 */
export function labelProblems(labels: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const names = Object.keys(labels);
  if (names.length > MAX_LABELS) {
    problems.push(
      `loki.labels makes ${names.length} labels with service_name and env, more than the ${MAX_LABELS} Loki ` +
        `accepts; remove ${names.length - MAX_LABELS} (ids belong in the line, not in labels)`,
    );
  }
  for (const name of names) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      const fixed = name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^(?=[0-9])|^_+/, '') || 'region';
      problems.push(
        `loki.labels has an invalid label name ${JSON.stringify(name)} (must match [a-zA-Z_][a-zA-Z0-9_]* ` +
          `without a __ prefix); e.g. ${JSON.stringify(fixed)}`,
      );
      continue;
    }
    const value = labels[name];
    if (typeof value !== 'string' || value.length === 0) {
      const shown = typeof value === 'string' ? '""' : typeof value;
      problems.push(`loki.labels.${name} must be a non-empty string (got ${shown}); e.g. "eu-west-1"`);
    } else if (value.length > MAX_LABEL_VALUE_LENGTH) {
      problems.push(
        `loki.labels.${name} is longer than ${MAX_LABEL_VALUE_LENGTH} characters (Loki's max_label_value_length); shorten it`,
      );
    }
  }
  return problems;
}

/**
 * The label sets of the shipper's streams: one (`service_name`, `env`, the static extras), or one per
 * level (plus `level`) with `levelLabel`, in `LOKI_LOG_LEVEL_NAMES` order.
 */
export function streamLabelSets(
  labels: Readonly<Record<string, string>>,
  levelLabel: boolean,
): Array<Record<string, string>> {
  return levelLabel ? LOKI_LOG_LEVEL_NAMES.map((level) => ({ ...labels, level })) : [{ ...labels }];
}

/** The protobuf form of a label set: a LogQL stream selector, values escaped as Go string literals. */
export function labelSelector(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.keys(labels)
    .toSorted()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`);
  return `{${pairs.join(', ')}}`;
}
