import {
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_MAX_SECRET_BYTES,
  DEFAULT_ROTATION_DEBOUNCE_MS,
  DEFAULT_ROTATION_POLL_MS,
  DEFAULT_SECRETS_DIRECTORY,
} from './secrets.constants.js';
import { SecretDeclarationError } from './secret-declaration.error.js';
import type { SecretDeclaration, SecretValidationResult } from './secret-declaration.interface.js';
import { assertValidEnvName, assertValidSecretName, defaultEnvName } from './secret-name.js';
import type { EnvConflictPolicy, SecretsModuleOptions } from './secrets-module-options.interface.js';

/** A declaration with every default applied. Internal. */
export interface ResolvedSecret {
  readonly name: string;
  readonly required: boolean;
  readonly env: string | undefined;
  readonly encoding: 'utf8' | 'buffer';
  readonly maxBytes: number;
  readonly validate: ((value: string, bytes: Buffer) => SecretValidationResult) | undefined;
  readonly parse: ((value: string, bytes: Buffer) => unknown) | undefined;
}

/** Module options with every default applied. Internal. */
export interface ResolvedSecretsOptions {
  readonly secrets: readonly ResolvedSecret[];
  readonly directory: string;
  readonly envConflict: EnvConflictPolicy;
  readonly production: boolean;
  readonly allowEnvFallback: boolean;
  readonly rotation:
    { readonly watch: boolean; readonly pollIntervalMs: number; readonly debounceMs: number } | undefined;
  readonly healthTimeoutMs: number;
}

/**
 * Checks every declaration (names, env names, duplicates, limits) and throws `SecretDeclarationError`
 * on the first problem. Called by `defineSecrets()`, `SecretsModule.forRoot()` and at load time
 * (for `forRootAsync`, whose options only exist then).
 */
export function assertValidDeclarations(secrets: readonly SecretDeclaration[]): void {
  if (!Array.isArray(secrets)) {
    throw new SecretDeclarationError('SecretsModule: "secrets" must be an array of declarations.');
  }
  const names = new Set<string>();
  for (const declaration of secrets) {
    assertValidSecretName(declaration?.name);
    if (names.has(declaration.name)) {
      throw new SecretDeclarationError(`Secret "${declaration.name}" is declared twice.`);
    }
    names.add(declaration.name);
    if (declaration.env !== undefined && declaration.env !== false) {
      assertValidEnvName(declaration.name, declaration.env);
    }
    if (
      declaration.encoding !== undefined &&
      declaration.encoding !== 'utf8' &&
      declaration.encoding !== 'buffer'
    ) {
      throw new SecretDeclarationError(`Secret "${declaration.name}": encoding must be "utf8" or "buffer".`);
    }
    if (declaration.maxBytes !== undefined)
      assertPositiveInteger(`Secret "${declaration.name}": maxBytes`, declaration.maxBytes);
    if (declaration.validate !== undefined && typeof declaration.validate !== 'function') {
      throw new SecretDeclarationError(`Secret "${declaration.name}": validate must be a function.`);
    }
    if (declaration.parse !== undefined && typeof declaration.parse !== 'function') {
      throw new SecretDeclarationError(`Secret "${declaration.name}": parse must be a function.`);
    }
  }
}

export function resolveSecretsOptions(
  options: SecretsModuleOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedSecretsOptions {
  if (options === null || typeof options !== 'object') {
    throw new SecretDeclarationError('SecretsModule: options are required ({ secrets: [...] }).');
  }
  assertValidDeclarations(options.secrets);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SECRET_BYTES;
  assertPositiveInteger('SecretsModule: maxBytes', maxBytes);
  const envConflict = options.envConflict ?? 'error';
  if (!['error', 'prefer-file', 'prefer-env'].includes(envConflict)) {
    throw new SecretDeclarationError(
      'SecretsModule: envConflict must be "error", "prefer-file" or "prefer-env".',
    );
  }
  const production = env.NODE_ENV === 'production';
  const rotation = options.rotation === true ? {} : options.rotation || undefined;
  const resolvedRotation = rotation && {
    watch: rotation.watch ?? true,
    pollIntervalMs: rotation.pollIntervalMs ?? DEFAULT_ROTATION_POLL_MS,
    debounceMs: rotation.debounceMs ?? DEFAULT_ROTATION_DEBOUNCE_MS,
  };
  if (resolvedRotation) {
    assertNonNegativeInteger('SecretsModule: rotation.pollIntervalMs', resolvedRotation.pollIntervalMs);
    assertNonNegativeInteger('SecretsModule: rotation.debounceMs', resolvedRotation.debounceMs);
  }
  const healthTimeoutMs = options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  assertPositiveInteger('SecretsModule: healthTimeoutMs', healthTimeoutMs);
  return {
    secrets: options.secrets.map((declaration) => ({
      name: declaration.name,
      required: declaration.required ?? false,
      env: declaration.env === false ? undefined : (declaration.env ?? defaultEnvName(declaration.name)),
      encoding: declaration.encoding ?? 'utf8',
      maxBytes: declaration.maxBytes ?? maxBytes,
      validate: declaration.validate,
      parse: declaration.parse,
    })),
    directory: options.directory ?? DEFAULT_SECRETS_DIRECTORY,
    envConflict,
    production,
    allowEnvFallback: options.allowEnvFallback ?? !production,
    rotation: resolvedRotation,
    healthTimeoutMs,
  };
}

function assertPositiveInteger(what: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new SecretDeclarationError(`${what} must be a positive integer.`);
  }
}

function assertNonNegativeInteger(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new SecretDeclarationError(`${what} must be a non-negative integer.`);
  }
}
