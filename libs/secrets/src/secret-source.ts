/**
 * Where a secret's value came from, in resolution order:
 * - `directory`: the file `<directory>/<name>` (Docker `/run/secrets`, a Kubernetes volume);
 * - `env-file`: the file named by `<ENV>_FILE`;
 * - `env`: the plain environment variable `<ENV>` (the development fallback).
 */
export type SecretSourceType = 'directory' | 'env-file' | 'env';

/** Provenance of a loaded secret. `location` is a path or an env var name, never a value. */
export interface SecretSource {
  readonly type: SecretSourceType;
  readonly location: string;
}
