/** A declaration is wrong (bad name, duplicate, bad option). Thrown where the secret is declared. */
export class SecretDeclarationError extends Error {
  override readonly name = 'SecretDeclarationError';
}
