// One real Triton (on a fresh twin repository) shared by the tests of a file: started before them,
// stopped and cleaned after them, its log printed when a test fails.
import { afterAll, beforeAll } from 'vitest';
import { printTritonLogOnFailure } from './triton-log-on-failure.ts';
import { startTritonServer } from './triton-server.ts';
import type { TritonServerHandle, TritonServerOptions } from './triton-server.ts';
import { createTwinRepository } from './twin-repository.ts';
import type { TwinRepository, TwinRepositoryOptions } from './twin-repository.ts';

const TRITON_READY_MS = 30_000;
const START_HOOK_TIMEOUT_MS = 90_000;

export interface RealTritonFixtureOptions {
  readonly twin?: TwinRepositoryOptions;
  readonly server: Omit<TritonServerOptions, 'repository'>;
  /** Wait for Triton's strict readiness before the tests (default true). */
  readonly waitReady?: boolean;
}

export interface RealTritonFixture {
  readonly twin: TwinRepository;
  readonly triton: TritonServerHandle;
}

/** Registers the hooks; read the fields inside tests and later hooks. */
export function useRealTriton(options: RealTritonFixtureOptions): RealTritonFixture {
  const state: { twin?: TwinRepository; triton?: TritonServerHandle } = {};
  printTritonLogOnFailure(() => state.triton);
  beforeAll(async () => {
    state.twin = await createTwinRepository(options.twin);
    state.triton = await startTritonServer({ ...options.server, repository: state.twin.path });
    if (options.waitReady ?? true) await state.triton.waitReady(TRITON_READY_MS);
  }, START_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    try {
      await state.triton?.stop();
    } finally {
      await state.twin?.remove();
    }
  });
  return {
    get twin(): TwinRepository {
      if (state.twin === undefined) throw new Error('twin repository not created yet');
      return state.twin;
    },
    get triton(): TritonServerHandle {
      if (state.triton === undefined) throw new Error('Triton not started yet');
      return state.triton;
    },
  };
}
