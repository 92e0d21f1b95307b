/**
 * `@bastion/secrets/config`: the `@nestjs/config` integration, a subpath of its own so that the main
 * entry never imports `@nestjs/config` (an optional peer, needed only here).
 */
export { registerSecretsConfig, type SecretsConfig } from './secrets-config.js';
