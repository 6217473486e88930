import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Provisions the real Triton of the integration tests once, before any worker starts.
    globalSetup: ['test/support/real-triton/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    pool: 'forks',
  },
});
