import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));
const lib = (name: string, entry = 'index') =>
  fileURLToPath(new URL(`../libs/${name}/src/${entry}.ts`, import.meta.url));

export default defineConfig({
  root,
  resolve: {
    // Tests run against the libs' TypeScript sources; the packaging test covers the built output.
    // A subpath comes before its package: Vite matches `@bastion/secrets` as a prefix too.
    alias: {
      '@bastion/secrets/config': lib('secrets', 'config'),
      '@bastion/secrets/metrics': lib('secrets', 'metrics'),
      '@bastion/secrets': lib('secrets'),
      '@bastion/redis-sentinel/bullmq': lib('redis-sentinel', 'bullmq'),
      '@bastion/redis-sentinel/keyv': lib('redis-sentinel', 'keyv'),
      '@bastion/redis-sentinel/throttler': lib('redis-sentinel', 'throttler'),
      '@bastion/redis-sentinel/socket.io': lib('redis-sentinel', 'socket.io'),
      '@bastion/redis-sentinel/metrics': lib('redis-sentinel', 'metrics'),
      '@bastion/redis-sentinel': lib('redis-sentinel'),
      '@bastion/loki-logger/metrics': lib('loki-logger', 'metrics'),
      '@bastion/loki-logger': lib('loki-logger'),
    },
  },
  test: {
    globals: true,
    include: ['test/**/*.spec.ts'],
    // Needs root and network namespaces: its own command, `npm run test:partitions`.
    exclude: [...configDefaults.exclude, 'test/partitions/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores here: each Sentinel topology is six processes, so run at most two files at once.
    maxWorkers: 2,
    pool: 'forks',
  },
});
