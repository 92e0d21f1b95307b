/**
 * The redaction registry: where loggers learn which values must never be printed.
 *
 * `SecretsModule` provides it under `SECRET_REDACTION_SOURCE` (backed by `SecretsService`);
 * `@bastion/loki-logger` injects that token with `@Optional()` and masks every value in every log
 * line. Any object with these two methods can be registered under the token (a registry of your own,
 * a test double).
 */
export interface SecretRedactionSource {
  /**
   * Every secret value loaded so far, including values replaced by rotation: an old value can still
   * sit in a buffer or an error message after the swap, so it stays masked for the process lifetime.
   * Binary secrets are listed in their UTF-8 form.
   */
  values(): readonly string[];

  /** Calls `listener` after every load or rotation. Returns a function that unsubscribes. */
  subscribe(listener: () => void): () => void;
}

/**
 * Injection token of the `SecretRedactionSource`. A `Symbol.for()` key, so two installed copies of
 * `@bastion/secrets` (or a logger that declares the same key without importing this package) still
 * meet: `@Optional() @Inject(SECRET_REDACTION_SOURCE) source?: SecretRedactionSource`.
 */
export const SECRET_REDACTION_SOURCE: unique symbol = Symbol.for('@bastion/secrets:redaction-source');
