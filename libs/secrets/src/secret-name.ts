import { SecretDeclarationError } from './secret-declaration.error.js';

// Same alphabet as Docker Swarm and Kubernetes secret keys; a name is a single path element.
const NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const ENV_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_NAME_LENGTH = 255;

/**
 * Rejects any name that is not one plain file name: no separators, no leading dot (hides `..data`
 * and the Kubernetes timestamp dirs), no `..`. Throws `SecretDeclarationError`.
 */
export function assertValidSecretName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new SecretDeclarationError(
      `Invalid secret name ${JSON.stringify(name)}: it must be a non-empty string.`,
    );
  }
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  if (name.length > MAX_NAME_LENGTH) {
    throw new SecretDeclarationError(
      `Invalid secret name ${shown}: longer than ${MAX_NAME_LENGTH} characters.`,
    );
  }
  if (name.includes('..')) {
    throw new SecretDeclarationError(`Invalid secret name ${shown}: it must not contain "..".`);
  }
  if (name.startsWith('.')) {
    throw new SecretDeclarationError(
      `Invalid secret name ${shown}: it must not start with a dot (dot-entries are never read as secrets).`,
    );
  }
  if (!NAME_PATTERN.test(name)) {
    throw new SecretDeclarationError(
      `Invalid secret name ${shown}: only letters, digits, ".", "_" and "-" are allowed (no path separators).`,
    );
  }
}

/** `redis_password` → `REDIS_PASSWORD`; `tls.key-pem` → `TLS_KEY_PEM`. */
export function defaultEnvName(name: string): string {
  return name.replace(/[.-]/g, '_').toUpperCase();
}

export function assertValidEnvName(secret: string, env: string): void {
  if (!ENV_PATTERN.test(env)) {
    throw new SecretDeclarationError(
      `Invalid env name ${JSON.stringify(env)} for secret "${secret}": use letters, digits and "_" only.`,
    );
  }
}
