/**
 * Parses a LogQL stream selector as Loki's push path does for protobuf pushes
 * (`{name="value", ...}`, values as Go string literals) and checks Loki's label rules.
 */
const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function parseLabelSelector(text: string): Record<string, string> {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) throw new Error(`invalid labels: ${text}`);
  const out: Record<string, string> = {};
  let i = 1;
  const end = s.length - 1;
  const skip = (): void => {
    while (i < end && /\s/.test(s[i]!)) i++;
  };
  skip();
  while (i < end) {
    const start = i;
    while (i < end && /[a-zA-Z0-9_]/.test(s[i]!)) i++;
    const name = s.slice(start, i);
    skip();
    if (s[i] !== '=') throw new Error(`invalid labels: expected = after "${name}"`);
    i++;
    skip();
    if (s[i] !== '"') throw new Error(`invalid labels: expected a quoted value for "${name}"`);
    i++;
    let value = '';
    for (;;) {
      if (i >= end) throw new Error('invalid labels: unterminated value');
      const c = s[i++]!;
      if (c === '"') break;
      if (c !== '\\') {
        value += c;
        continue;
      }
      const e = s[i++]!;
      if (e === 'n') value += '\n';
      else if (e === 't') value += '\t';
      else if (e === 'r') value += '\r';
      else if (e === 'u') {
        value += String.fromCharCode(parseInt(s.slice(i, i + 4), 16));
        i += 4;
      } else value += e;
    }
    if (name in out) throw new Error(`duplicate label name: ${name}`);
    out[name] = value;
    skip();
    if (s[i] === ',') {
      i++;
      skip();
    } else if (i < end) throw new Error('invalid labels: expected ,');
  }
  return out;
}

/** Loki's default label limits; returns the error text or undefined. */
export function checkLabels(labels: Record<string, string>): string | undefined {
  const names = Object.keys(labels);
  if (names.length === 0) return 'error at least one label pair is required per stream';
  if (names.length > 15)
    return `stream has ${names.length} label names; limit 15 (max_label_names_per_series)`;
  for (const n of names) {
    if (!NAME.test(n)) return `invalid label name: ${n}`;
    if (n.length > 1024) return `label name too long: ${n}`;
    if (labels[n]!.length > 2048) return `label value too long for ${n}`;
  }
  return undefined;
}
