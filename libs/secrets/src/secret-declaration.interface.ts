/**
 * Result of a validator: `true` or `undefined` means valid; `false` means invalid; a string is the
 * rule that failed, shown in the boot error. Write the rule ("must be at least 32 characters"),
 * never the value: any occurrence of the value in the text is removed anyway.
 */
export type SecretValidationResult = boolean | string | undefined | void;

/** One secret the application uses. Nothing is read that is not declared. */
export interface SecretDeclaration<TName extends string = string> {
  /**
   * File name under the secrets directory and the key used by `SecretsService.get()`.
   * Only `[A-Za-z0-9._-]`, no leading dot, no `..`, at most 255 characters: checked where declared,
   * so a name can never walk out of the directory.
   */
  readonly name: TName;

  /**
   * Whether boot fails when the secret cannot be found. Default `false`, so a developer machine can
   * boot without every production secret; compute it per environment, e.g.
   * `required: process.env.NODE_ENV === 'production'`. A secret that is found but invalid fails boot
   * either way.
   */
  readonly required?: boolean;

  /**
   * Environment variable name used for `<ENV>_FILE` and the `<ENV>` fallback.
   * Default: the name upper-cased with `.` and `-` turned into `_` (`redis_password` → `REDIS_PASSWORD`).
   * `false` disables both env lookups: the secret comes from the directory only.
   */
  readonly env?: string | false;

  /**
   * `'utf8'` (default) gives a string; `'buffer'` marks a binary secret (a keystore, a DER key):
   * read it with `getBuffer()`, its bytes are kept as they are (no newline stripping).
   */
  readonly encoding?: 'utf8' | 'buffer';

  /**
   * Size cap for this secret in bytes. Default: the module's `maxBytes` (64 KiB).
   * Bigger content is an error, never silently cut.
   */
  readonly maxBytes?: number;

  /**
   * Checks the content after newline stripping, at boot and on every rotation. Invalid content fails
   * boot (or, on rotation, keeps the old value). If the validator throws, only the error's class name
   * is reported: messages of schema libraries tend to echo the input. Default: none.
   */
  readonly validate?: (value: string, bytes: Buffer) => SecretValidationResult;

  /**
   * Turns the (validated) content into a structured value, read with `getParsed()` and served by the
   * config namespace: e.g. `JSON.parse` for a credentials document. Runs at boot and on every rotation;
   * a throw is reported like a validator's (class name only). Every string of 4+ characters inside
   * the result is added to the redaction registry (shorter ones would mask unrelated log text). Default: none.
   */
  readonly parse?: (value: string, bytes: Buffer) => unknown;
}
