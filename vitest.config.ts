import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Provisions, once and before any worker starts, the real Triton of the integration tests and the
    // offline Kubernetes tools of test/deployment/ (kubectl with kustomize, kubernetes-validate); and an
    // id for this run, with which test/container/ builds its images once per run.
    globalSetup: ['test/support/real-triton/global-setup.ts', 'test/support/deploy-tools/global-setup.ts', 'test/support/containers/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    pool: 'forks',
  },
});
