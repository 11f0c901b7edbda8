import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/docker/**/*.test.ts', 'test/node/**/*.test.ts', 'test/package/**/*.test.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // After every file of every tier: fails the run on docker objects the tests left behind.
    globalSetup: ['./test/helpers/docker-leftovers.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Docker tests share one daemon and build shared images; files run in parallel, tests within a file in order.
    fileParallelism: true,
  },
});
