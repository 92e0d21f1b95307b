import { defineSecrets, type SecretName } from '@bastion/secrets';

const production = process.env.NODE_ENV === 'production';

/** Every secret this app reads: files under SECRETS_DIR (`/run/secrets`), env fallback in development. */
export const appSecrets = defineSecrets([
  { name: 'redis_password', required: production, env: 'REDIS_PASSWORD' },
  {
    name: 'session_secret',
    required: production,
    env: 'SESSION_SECRET',
    validate: (v) => v.length >= 32 || 'must be at least 32 characters',
  },
  { name: 'sentinel_password', env: 'SENTINEL_PASSWORD' },
  { name: 'loki_password', env: 'LOKI_PASSWORD' },
] as const);

export type AppSecret = SecretName<typeof appSecrets>;
