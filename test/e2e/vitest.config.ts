import { defineConfig } from 'vitest/config';

// `npm run test:e2e`: the real thing, against real k3d and docker. Slow and opt-in; it fails (never
// skips) when k3d, kubectl or docker is missing.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 15 * 60_000,
    hookTimeout: 15 * 60_000,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
