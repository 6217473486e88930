// vitest globalSetup: an id for this test run, so the container images are built once per run (by the
// first container test that needs them) and not once per test file.
import { randomUUID } from 'node:crypto';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    testRunId: string;
  }
}

export default function setup(project: TestProject): void {
  project.provide('testRunId', randomUUID());
}
