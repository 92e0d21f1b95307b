/**
 * Invalid `SecretsModule` options or secret declarations (a bad name, a duplicate, a wrong type).
 * Lists every problem at once, one line each (the option's path, what is wrong, the value given and
 * a valid example), so a bad configuration is fixed in one round. Options hold names and paths,
 * never values. Thrown where the secrets are declared (`defineSecrets()`, `SecretsModule.forRoot()`,
 * `registerSecretsConfig()`) or, for `forRootAsync()`, at boot.
 */
export class SecretsConfigError extends Error {
  override readonly name = 'SecretsConfigError';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid SecretsModule options:\n${problems.map((p) => ` - ${p}`).join('\n')}`);
  }
}

/**
 * @deprecated Bad declarations are options problems: they throw `SecretsConfigError`, of which this
 * is an alias kept for `instanceof` checks written against earlier versions.
 */
export const SecretDeclarationError = SecretsConfigError;
/** @deprecated Use `SecretsConfigError`. */
export type SecretDeclarationError = SecretsConfigError;

/**
 * A secret was read by a name that no declaration has: a typo, or a name missing from the `secrets`
 * given to `SecretsModule`. `secret` is `undefined` when the string passed was the value of a loaded
 * secret, which is never echoed.
 */
export class SecretNotDeclaredError extends Error {
  override readonly name = 'SecretNotDeclaredError';

  constructor(
    readonly secret: string | undefined,
    readonly declared: readonly string[],
  ) {
    const list = declared.length > 0 ? declared.map((n) => `"${n}"`).join(', ') : 'none';
    super(
      secret === undefined
        ? `A secret was read by the value of a loaded secret instead of its name (value not shown). ` +
            `Pass one of the declared names: ${list}.`
        : `Secret ${show(secret)} is not declared in SecretsModule. Declared names: ${list}. ` +
            `Fix the name, or add { name: ${show(secret)} } to the secrets given to SecretsModule.`,
    );
  }
}

function show(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

/**
 * A binary secret (`encoding: 'buffer'`) was read as text with `get()` / `getOrThrow()`. A
 * `TypeError`, as before it had a class of its own; read it with `getBuffer()`.
 */
export class SecretEncodingError extends TypeError {
  override readonly name = 'SecretEncodingError';

  constructor(readonly secret: string) {
    super(`Secret "${secret}" is declared with encoding "buffer"; read it with getBuffer().`);
  }
}
