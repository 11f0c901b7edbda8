import { defineConfig } from 'vitest/config';

// `npm run test:e2e`: the real thing, against real k3d and docker. Slow and opt-in; it fails (never
// skips) when k3d, kubectl or docker is missing. The global setup reports, at the end, which images
// the clusters' nodes pulled (K3S_DEVREG_E2E_IMAGES: test/e2e/prepare-images.sh) and the timing.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 15 * 60_000,
    hookTimeout: 15 * 60_000,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
