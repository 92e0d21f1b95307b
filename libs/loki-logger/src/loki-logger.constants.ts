/** Token of the options as given to `forRoot()` / returned by the `forRootAsync()` factory. */
export const LOKI_LOGGER_MODULE_OPTIONS = 'BASTION_LOKI_LOGGER_MODULE_OPTIONS';

/** Internal token of the resolved options (`resolveLokiLoggerOptions()`), not exported from the package. */
export const LOKI_LOGGER_RESOLVED_OPTIONS = 'BASTION_LOKI_LOGGER:RESOLVED_OPTIONS';
