import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Integration tests start child processes on free ports; one file at a time keeps the 2-core CI machine calm.
    fileParallelism: true,
    pool: 'forks',
  },
});
