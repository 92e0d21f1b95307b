import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));
const lib = (name: string) => fileURLToPath(new URL(`../libs/${name}/src/index.ts`, import.meta.url));

/**
 * Partition suite (`npm run test:partitions`, needs root): the scenarios run one after another,
 * because each one starts six Redis processes and times its faults on a 2-core machine.
 */
export default defineConfig({
  root,
  resolve: {
    alias: {
      '@bastion/secrets': lib('secrets'),
      '@bastion/redis-sentinel': lib('redis-sentinel'),
      '@bastion/loki-logger': lib('loki-logger'),
    },
  },
  test: {
    globals: true,
    include: ['test/partitions/**/*.spec.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    maxWorkers: 1,
    pool: 'forks',
  },
});
