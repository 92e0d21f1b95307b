import type { SecretDeclaration } from './secret-declaration.interface.js';
import { assertValidDeclarations } from './secrets-options.resolver.js';

/**
 * Declares the application's secrets, checking them right here (so a bad name fails at the line
 * that declares it, with every problem in one `SecretsConfigError`), and keeps their literal names
 * for typed access:
 *
 * ```ts
 * export const appSecrets = defineSecrets([{ name: 'redis_password', required: isProd }] as const);
 * type AppSecret = SecretName<typeof appSecrets>; // 'redis_password'
 * constructor(private readonly secrets: SecretsService<AppSecret>) {}
 * ```
 */
export function defineSecrets<const T extends readonly SecretDeclaration[]>(secrets: T): T {
  assertValidDeclarations(secrets);
  return secrets;
}

/** The union of the names in a `defineSecrets()` result. */
export type SecretName<T extends readonly SecretDeclaration[]> = T[number]['name'];
