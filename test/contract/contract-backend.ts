// The two backends the contract suite runs against, each behind a gateway started in-process: the real
// Triton of the test suite (python-backend twins of model_repository/, poll mode) and the embedded
// onnxruntime-node backend (a temporary copy of model_repository/, polled). The suite sees only this
// interface, so whatever it checks holds for both.
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { eventually, startTestGateway } from '../support/gateway-harness.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { useRealTriton } from '../support/real-triton/real-triton-fixture.ts';
import type { TritonServerHandle } from '../support/real-triton/triton-server.ts';
import { TWIN_MODEL_PY } from '../support/real-triton/twin-repository.ts';
import type { TwinRepository } from '../support/real-triton/twin-repository.ts';
import { BROKEN_MODEL_ONNX, createTempModelRepository } from '../support/temp-model-repository.ts';
import type { TempModelRepository } from '../support/temp-model-repository.ts';

/**
 * The only fields of model metadata and config that may differ between the backends: they name the
 * runtime behind the model. The test Triton serves python-backend twins (README "The test Triton");
 * the embedded backend says what Triton's onnxruntime backend says.
 */
export interface RuntimeFields {
  /** Metadata `platform`. */
  readonly platform: string;
  /** Config `platform`. */
  readonly configPlatform: string;
  /** Config `backend`. */
  readonly backend: string;
  /** Config `default_model_filename`. */
  readonly defaultModelFilename: string;
}

export interface ContractBackend {
  readonly name: 'triton' | 'embedded';
  /** The gateway in front of the backend; read inside tests and hooks. */
  readonly gatewayUrl: string;
  readonly runtime: RuntimeFields;
  /** How often the backend looks at its model repository (sizes the waits for "a few more polls"). */
  readonly repositoryPollMs: number;
  /** Adds `version` of `model` running the model.onnx of `fromVersion` (of model_repository/); atomic. */
  addVersion(model: string, version: number, fromVersion: number): Promise<void>;
  /** Adds a version whose model.onnx is not an ONNX model (it fails to load); atomic. */
  addBrokenVersion(model: string, version: number): Promise<void>;
  removeVersion(model: string, version: number): Promise<void>;
}

const GATEWAY_READY_MS = 15_000;
/**
 * Settings of both contract gateways on top of the harness' TEST_ENV. A 1 s breaker window (default 10 s)
 * makes what a test does count, not the successful traffic of the tests before it.
 */
const CONTRACT_ENV: Readonly<Record<string, string>> = { BREAKER_ROLLING_WINDOW_MS: '1000' };
const START_HOOK_TIMEOUT_MS = 60_000;
const TRITON_POLL_MS = 1000;
const EMBEDDED_POLL_MS = 100;

/** Real Triton in poll mode (--repository-poll-secs=1) on a twin of model_repository/; the gateway in-process. */
export function useTritonContractBackend(): ContractBackend & { readonly triton: TritonServerHandle; readonly twin: TwinRepository } {
  const real = useRealTriton({ server: { modelControl: 'poll' } });
  const gateway = useGateway(() => real.triton.grpcAddress, () => CONTRACT_ENV);
  let brokenCounter = 0;
  return {
    name: 'triton',
    get gatewayUrl() {
      return gateway().url;
    },
    get triton() {
      return real.triton;
    },
    get twin() {
      return real.twin;
    },
    runtime: { platform: 'python', configPlatform: '', backend: 'python', defaultModelFilename: 'model.py' },
    repositoryPollMs: TRITON_POLL_MS,
    addVersion: (model, version, fromVersion) => real.twin.addVersion(model, version, { fromVersion }),
    async addBrokenVersion(model, version) {
      // The twin's model.py with a model.onnx onnxruntime cannot read: initialize() fails like Triton's
      // onnxruntime backend would. Written aside (the twin's staging directory) and renamed into place.
      const repository = real.twin.path;
      const aside = join(dirname(repository), 'staging', `broken-${model}-${version}-${brokenCounter++}`);
      await mkdir(aside, { recursive: true });
      await copyFile(TWIN_MODEL_PY, join(aside, 'model.py'));
      await writeFile(join(aside, 'model.onnx'), BROKEN_MODEL_ONNX);
      const target = join(repository, model, String(version));
      await rm(target, { recursive: true, force: true });
      await rename(aside, target);
    },
    removeVersion: (model, version) => real.twin.removeVersion(model, version),
  };
}

/** The embedded backend (no TRITON_GRPC_URL) serving a temporary copy of model_repository/ made for this file. */
export function useEmbeddedContractBackend(): ContractBackend {
  let repository: TempModelRepository | undefined;
  const need = (): TempModelRepository => {
    if (repository === undefined) throw new Error('temporary model repository not created yet');
    return repository;
  };
  beforeAll(async () => {
    repository = await createTempModelRepository();
  });
  afterAll(async () => {
    await repository?.remove();
  });
  const gateway = useGateway(undefined, () => ({ ...CONTRACT_ENV, MODEL_REPOSITORY: need().path, MODEL_POLL_INTERVAL_MS: String(EMBEDDED_POLL_MS) }));
  return {
    name: 'embedded',
    get gatewayUrl() {
      return gateway().url;
    },
    runtime: { platform: 'onnxruntime_onnx', configPlatform: 'onnxruntime_onnx', backend: 'onnxruntime', defaultModelFilename: 'model.onnx' },
    repositoryPollMs: EMBEDDED_POLL_MS,
    addVersion: (model, version, fromVersion) => need().addVersion(model, version, fromVersion),
    addBrokenVersion: (model, version) => need().addBrokenVersion(model, version),
    removeVersion: (model, version) => need().removeVersion(model, version),
  };
}

/** A gateway started once the backend is there (ready before the tests), stopped after them. */
function useGateway(tritonAddress: (() => string) | undefined, env: () => Readonly<Record<string, string>>): () => TestGateway {
  let gateway: TestGateway | undefined;
  beforeAll(async () => {
    gateway = await startTestGateway(tritonAddress?.(), env());
    const url = gateway.url;
    await eventually(async () => (await fetch(`${url}/ready`)).status === 200, GATEWAY_READY_MS, 50);
  }, START_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await gateway?.close();
  });
  return () => {
    if (gateway === undefined) throw new Error('gateway not started yet');
    return gateway;
  };
}
