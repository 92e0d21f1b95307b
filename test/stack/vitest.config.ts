import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

// `npm run test:stack` only: a private Docker engine and a single-node Swarm (several minutes).
// Its files end in .stack.ts, so the default `npm test` (test/**/*.spec.ts) never picks them up.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    globals: true,
    include: ['test/stack/**/*.stack.ts'],
    testTimeout: 300_000,
    hookTimeout: 900_000,
    fileParallelism: false,
    pool: 'forks',
    // Figures are printed as the run goes.
    reporters: ['verbose'],
  },
});
