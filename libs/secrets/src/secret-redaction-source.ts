/**
 * The redaction registry: where loggers learn which values must never be printed.
 *
 * `SecretsModule` provides it (backed by `SecretsService`); `@bastion/loki-logger` injects it with
 * `@Optional()` and masks every value in every log line. It is an abstract class so that it can be
 * both the TypeScript type and the Nest injection token (the `Cache` idiom of @nestjs/cache-manager).
 */
export abstract class SecretRedactionSource {
  /**
   * Every secret value loaded so far, including values replaced by rotation: an old value can still
   * sit in a buffer or an error message after the swap, so it stays masked for the process lifetime.
   * Binary secrets are listed in their UTF-8 form.
   */
  abstract values(): readonly string[];

  /** Calls `listener` after every load or rotation. Returns a function that unsubscribes. */
  abstract subscribe(listener: () => void): () => void;
}
