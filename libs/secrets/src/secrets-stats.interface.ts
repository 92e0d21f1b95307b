/** Counters of one declared secret (`SecretsService.stats()`). Names only, never a value. */
export interface SecretStats {
  readonly name: string;
  readonly loaded: boolean;
  /** Times a changed, valid content was swapped in. */
  readonly rotations: number;
  /** Times a changed content was rejected (each distinct problem once); the old value stayed. */
  readonly rotationFailures: number;
  /** Epoch ms of the last rotation; `undefined` while it has the value of the boot load. */
  readonly lastRotatedAt: number | undefined;
  /** Epoch ms at which the value in use was read (boot load or last rotation); `undefined` if none. */
  readonly loadedAt: number | undefined;
}

/**
 * Counters of `SecretsService` (`stats()`), safe to log: secret names are values here, never keys, so
 * a logger that masks sensitive-looking keys (`redis_password`) leaves them readable.
 */
export interface SecretsStats {
  /** Read passes over the declared secrets: 1 at boot, +1 per re-read (fs event, poll, `reload()`). */
  readonly loads: number;
  /** Rotations of any secret (the sum of the per-secret counts). */
  readonly rotations: number;
  /** Rejected rotations of any secret. */
  readonly rotationFailures: number;
  /** One entry per declared secret, in declaration order. */
  readonly secrets: readonly SecretStats[];
}
