/** A declaration is wrong (bad name, duplicate, bad option). Thrown where the secret is declared. */
export class SecretDeclarationError extends Error {
  override readonly name = 'SecretDeclarationError';
}

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
