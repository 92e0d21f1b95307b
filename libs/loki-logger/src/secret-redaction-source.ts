/*
 * This lib's own copy of `@bastion/secrets`' redaction contract: the same `Symbol.for()` key and the
 * same two methods. Declaring them here (instead of importing `@bastion/secrets`) means the logger
 * never loads that package, and any copy of it (or any object with these methods registered under
 * the key) is found: a class token would stop matching as soon as two copies are installed.
 */

/** Where the logger learns which values must never be printed (`SecretsService` implements it). */
export interface SecretRedactionSource {
  /** Every secret value loaded so far (rotated-out ones included). */
  values(): readonly string[];
  /** Calls `listener` after every load or rotation; returns a function that unsubscribes. */
  subscribe(listener: () => void): () => void;
}

/** `Symbol.for('@bastion/secrets:redaction-source')`: `SECRET_REDACTION_SOURCE` of `@bastion/secrets`. */
export const SECRET_REDACTION_SOURCE: unique symbol = Symbol.for('@bastion/secrets:redaction-source');
