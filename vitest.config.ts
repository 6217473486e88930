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
    // `npm test` runs with --coverage: what the suite runs of gateway/ in the test workers. Code that runs
    // only in a gateway child process or a worker thread (the body parser, the embedded backend's
    // session worker) is not counted: --coverage.autoAttachSubprocess counts it, at about 1.2x the
    // time of test/unit (1.01x without it).
    coverage: {
      provider: 'v8',
      include: ['gateway/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      // The summary also when a test fails: CI shows what the run reached either way.
      reportOnFailure: true,
      // The floor: what the whole `npm test` reached (90.11 % statements, 85.07 % branches, 92.36 %
      // functions, 92.32 % lines in one full run), less one point for the paths that depend on timing
      // (a deadline that fires or not, a drain that finds work or not) on a shared machine. Raise it with the suite.
      thresholds: { statements: 89, branches: 84, functions: 91, lines: 91 },
    },
  },
});
