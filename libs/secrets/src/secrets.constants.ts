/** Where Docker (Compose and Swarm) mounts secrets on Linux. */
export const DEFAULT_SECRETS_DIRECTORY = '/run/secrets';

/**
 * 64 KiB: far above any password, token or PEM key, far below the platform caps (Swarm 500 KiB,
 * Kubernetes 1 MiB), so a wrong mount (a log file, a device) fails loudly instead of filling memory.
 */
export const DEFAULT_MAX_SECRET_BYTES = 64 * 1024;

/** Re-read interval when rotation is on: the safety net for missed fs events (bind mounts, NFS). */
export const DEFAULT_ROTATION_POLL_MS = 60_000;

/** Quiet time after the last fs event before re-reading: one `..data` swap fires several events. */
export const DEFAULT_ROTATION_DEBOUNCE_MS = 100;

/** Deadline of one health probe: well under the 1 s default `timeoutSeconds` of a Kubernetes probe. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 500;

/** How long a health probe's read of the files is reused: not at all (see `SecretsHealthOptions.freshnessMs`). */
export const DEFAULT_HEALTH_FRESHNESS_MS = 0;

/** Token of the options as given to `forRoot()` / returned by the `forRootAsync()` factory. */
export const SECRETS_MODULE_OPTIONS = 'BASTION_SECRETS_MODULE_OPTIONS';

/** Internal token of the resolved options (`resolveSecretsOptions()`), not exported from the package. */
export const SECRETS_RESOLVED_OPTIONS = 'BASTION_SECRETS:RESOLVED_OPTIONS';

/** Internal token of the loaded store (not exported from the package). */
export const SECRET_STORE = 'BASTION_SECRETS:STORE';
