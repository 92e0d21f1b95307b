/** Default sensitive keys (matched case-insensitively, as a part of the key: `dbPassword` too). */
export const DEFAULT_REDACT_KEYS: readonly string[] = [
  'password',
  'authorization',
  'cookie',
  'token',
  'secret',
  'apiKey',
];

/** Keys whose verdict `isSensitiveKey()` remembers, at most. */
const KEY_VERDICTS_MAX = 1024;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Masks secrets. Matchers are compiled once and rebuilt only when the secret list changes, so
 * the per-line cost is one regex scan of the finished line (plus a key test per metadata key).
 */
export class SecretRedactor {
  private readonly keyPattern: RegExp | undefined;
  private readonly inlinePattern: RegExp | undefined;
  private readonly jsonCensor: string;
  private readonly keyVerdicts = new Map<string, boolean>();
  // #private: `util.inspect()` of the logger must never print the secrets these matchers hold.
  #valuePattern: RegExp | undefined;
  /** The forms to look for, when few: `indexOf` scans beat a regex alternation there. */
  #valueForms: string[] = [];
  readonly #staticValues: readonly string[];

  constructor(
    keys: readonly string[],
    readonly censor: string,
    private readonly minLength: number,
    staticValues: readonly string[] = [],
  ) {
    const names = keys.filter((k) => k.length > 0).map(escapeRegExp);
    if (names.length > 0) {
      const alt = names.join('|');
      this.keyPattern = new RegExp(alt, 'i');
      // `password=x`, `"token": "x"`, `Authorization: Bearer x` inside free text (messages, stacks).
      // Masking errs on the safe side: prose such as "secret: ..." is masked too. A bare value never
      // starts with `{`, `[` or `(`: a structure is not a credential, and eating its opening bracket
      // would corrupt JSON embedded in a message (its own keys are matched one by one instead).
      // No leading `[\w-]*`: the key's prefix (`db` of `dbPassword`) is kept as is, and leaving it
      // out avoids backtracking at every position of every message.
      this.inlinePattern = new RegExp(
        `((?:${alt})[\\w-]*)(["']?\\s*[:=]\\s*)("(?:[^"\\\\\\n]|\\\\.)*"|'[^'\\n]*'|(?:Bearer|Basic|Token)\\s+[^\\s,;"'&]+|[^\\s,;"'&{}()\\[\\]]+)`,
        'gi',
      );
    }
    this.jsonCensor = JSON.stringify(censor).slice(1, -1);
    this.#staticValues = staticValues;
    this.setValues([]);
  }

  /** Replaces the secret values (the static ones are kept). */
  setValues(values: readonly string[]): void {
    const forms = new Set<string>();
    for (const v of [...this.#staticValues, ...values]) {
      if (typeof v !== 'string' || v.length < this.minLength) continue;
      forms.add(v);
      // The line is JSON: a secret with quotes, backslashes or control characters appears escaped.
      forms.add(JSON.stringify(v).slice(1, -1));
    }
    const sorted = [...forms].toSorted((a, b) => b.length - a.length).map(escapeRegExp);
    this.#valuePattern = sorted.length > 0 ? new RegExp(sorted.join('|'), 'g') : undefined;
    this.#valueForms = sorted.length <= 8 ? [...forms] : [];
  }

  /** True when a metadata key names a secret. */
  isSensitiveKey(key: string): boolean {
    if (this.keyPattern === undefined) return false;
    // Lines repeat the same few keys: a lookup costs less than the regex. Bounded: keys can be data.
    let sensitive = this.keyVerdicts.get(key);
    if (sensitive === undefined) {
      sensitive = this.keyPattern.test(key);
      if (this.keyVerdicts.size >= KEY_VERDICTS_MAX) this.keyVerdicts.clear();
      this.keyVerdicts.set(key, sensitive);
    }
    return sensitive;
  }

  /** Masks `key=value` pairs in free text (messages, error messages, stacks, string metadata). */
  redactText(text: string): string {
    // Every pattern needs a `=` or `:` separator; most messages have neither.
    if (this.inlinePattern === undefined || (text.indexOf('=') === -1 && text.indexOf(':') === -1))
      return text;
    return text.replace(this.inlinePattern, (_m, key: string, sep: string, value: string) =>
      value.startsWith('"')
        ? `${key}${sep}"${this.censor}"`
        : value.startsWith("'")
          ? `${key}${sep}'${this.censor}'`
          : `${key}${sep}${this.censor}`,
    );
  }

  /** Masks every known secret value in a finished JSON line. */
  redactJsonLine(line: string): string {
    if (this.#valuePattern === undefined || !this.mayContainValue(line)) return line;
    return line.replace(this.#valuePattern, this.jsonCensor);
  }

  private mayContainValue(text: string): boolean {
    const forms = this.#valueForms;
    if (forms.length === 0) return true; // many secrets: let the single regex scan decide
    for (let i = 0; i < forms.length; i++) if (text.includes(forms[i]!)) return true;
    return false;
  }

  /** Masks every known secret value in a finished plain-text line. */
  redactPlain(text: string): string {
    if (this.#valuePattern === undefined || !this.mayContainValue(text)) return text;
    return text.replace(this.#valuePattern, this.censor);
  }
}
