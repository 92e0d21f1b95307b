import type { SecretDeclaration } from './secret-declaration.interface.js';

/** What to do when both `<ENV>` and `<ENV>_FILE` are set for the same secret. */
export type EnvConflictPolicy = 'error' | 'prefer-file' | 'prefer-env';

/** Opt-in rotation: re-read file-backed secrets when the platform replaces them. */
export interface SecretsRotationOptions {
  /**
   * Watch the directories holding the secret files (not the files: a file watch dies after the first
   * Kubernetes `..data` swap). Default `true`.
   */
  readonly watch?: boolean;

  /**
   * Also re-read every N ms, because fs events are not always delivered (bind-mounted files edited on
   * the host, network file systems). Default 60000; `0` turns polling off.
   */
  readonly pollIntervalMs?: number;

  /** Wait this long after the last fs event before re-reading; one swap fires several events. Default 100. */
  readonly debounceMs?: number;
}

/**
 * Options of `SecretsModule.forRoot()` / `forRootAsync()`. They hold declarations and paths only,
 * never values, so they are safe to log. Checked once, every problem at once: `SecretsConfigError`.
 */
export interface SecretsModuleOptions {
  /** The secrets the application uses. See `SecretDeclaration`. */
  readonly secrets: readonly SecretDeclaration[];

  /**
   * Directory searched first for a file named like the secret. Default `/run/secrets`, where Docker
   * mounts secrets; point it at a Kubernetes secret volume or a local dev folder.
   */
  readonly directory?: string;

  /**
   * Both `<ENV>` and `<ENV>_FILE` set: `'error'` (default) fails boot, as the official postgres and
   * mysql images do, because one of the two is a forgotten leftover; `'prefer-file'` or
   * `'prefer-env'` pick one.
   */
  readonly envConflict?: EnvConflictPolicy;

  /**
   * Allow the plain `<ENV>` fallback. Default: `true` unless `NODE_ENV` is `production`, because an
   * env var leaks into child processes and `/proc/<pid>/environ`. When used in production it warns once.
   * `<ENV>_FILE` is a file, so it is always allowed.
   */
  readonly allowEnvFallback?: boolean;

  /** Default size cap per secret in bytes. Default 65536 (64 KiB). */
  readonly maxBytes?: number;

  /**
   * Re-read secrets when their files change. Default `false`: Docker Swarm secrets never change under
   * a running task, so only Kubernetes volumes (or hand-managed files) benefit.
   * `true` means the defaults of `SecretsRotationOptions`.
   */
  readonly rotation?: boolean | SecretsRotationOptions;
}
