import { SecretsConfigError } from './secrets.errors.js';

// Same alphabet as Docker Swarm and Kubernetes secret keys; a name is a single path element.
const NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const ENV_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_NAME_LENGTH = 255;

/** A value as shown in a problem line: JSON, cut at 80 characters; functions and objects by kind. */
export function shown(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return String(value);
}

/**
 * Why `name` is not one plain file name (no separators, no leading dot: that hides `..data` and the
 * Kubernetes timestamp dirs, no `..`): the rest of a problem line after the option's path, or
 * `undefined` when it is valid.
 */
export function secretNameProblem(name: unknown): string | undefined {
  const example = 'e.g. "redis_password"';
  if (typeof name !== 'string' || name.length === 0) {
    return `must be a non-empty string (got ${shown(name)}); ${example}`;
  }
  if (name.length > MAX_NAME_LENGTH) {
    return `${shown(name)} is longer than ${MAX_NAME_LENGTH} characters; use a shorter file name, ${example}`;
  }
  if (name.includes('..')) {
    return `${shown(name)} must not contain ".." (a name is one file in the secrets directory); ${example}`;
  }
  if (name.startsWith('.')) {
    return (
      `${shown(name)} must not start with a dot (dot-entries are never read as secrets); ` +
      `e.g. ${shown(name.replace(/^\.+/, '') || 'redis_password')}`
    );
  }
  if (!NAME_PATTERN.test(name)) {
    return `${shown(name)} may hold only letters, digits, ".", "_" and "-" (no path separators); ${example}`;
  }
  return undefined;
}

/**
 * Throws `SecretsConfigError` unless `name` is one plain file name, so a name can never walk out of
 * the secrets directory.
 */
export function assertValidSecretName(name: unknown): asserts name is string {
  const problem = secretNameProblem(name);
  if (problem !== undefined) throw new SecretsConfigError([`name ${problem}`]);
}

/** Why `env` is not an environment variable name (the rest of a problem line), or `undefined`. */
export function envNameProblem(env: unknown): string | undefined {
  if (env === false || (typeof env === 'string' && ENV_PATTERN.test(env))) return undefined;
  if (typeof env !== 'string') {
    return `must be an environment variable name or false (got ${shown(env)}); e.g. "REDIS_PASSWORD"`;
  }
  const fixed = env.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_');
  return `${shown(env)} is not an environment variable name (letters, digits and "_", not starting with a digit); e.g. ${shown(fixed || 'REDIS_PASSWORD')}`;
}

/** `redis_password` → `REDIS_PASSWORD`; `tls.key-pem` → `TLS_KEY_PEM`. */
export function defaultEnvName(name: string): string {
  return name.replace(/[.-]/g, '_').toUpperCase();
}
