// One fault-injection Triton and one gateway in front of it, shared by the tests of a file.
import { afterAll, beforeAll } from 'vitest';
import { FakeTriton } from './fake-triton.ts';
import { startTestGateway } from './gateway-harness.ts';
import type { TestGateway } from './gateway-harness.ts';

export interface FakeTritonGateway {
  readonly triton: FakeTriton;
  readonly gateway: TestGateway;
}

/** Registers beforeAll/afterAll hooks; read the fields inside tests, after the hooks ran. */
export function useFakeTritonGateway(env: Readonly<Record<string, string>> = {}): FakeTritonGateway {
  const state: { triton?: FakeTriton; gateway?: TestGateway } = {};
  beforeAll(async () => {
    state.triton = new FakeTriton();
    await state.triton.start();
    state.gateway = await startTestGateway(state.triton.address, env);
  });
  afterAll(async () => {
    await state.gateway?.close();
    await state.triton?.stop();
  });
  return {
    get triton(): FakeTriton {
      if (state.triton === undefined) throw new Error('fake Triton not started yet');
      return state.triton;
    },
    get gateway(): TestGateway {
      if (state.gateway === undefined) throw new Error('gateway not started yet');
      return state.gateway;
    },
  };
}
