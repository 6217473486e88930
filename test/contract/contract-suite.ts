// One contract, two backends: what a client of the gateway sees over HTTP must not depend on whether a
// real Triton (TRITON_GRPC_URL) or the embedded onnxruntime-node backend serves the models. Registered by
// triton.contract.test.ts and embedded.contract.test.ts with their backend; every expectation is the
// same for both, except the fields that name the runtime (ContractBackend.runtime). The parts, each in
// its own file:
// 1. inference-cases.ts: correctness against onnxruntime, JSON and binary tensors, batch sizes 1..64.
// 2. metadata-cases.ts: model metadata and config, in full.
// 3. error-cases.ts: the same status and code for every error, whoever refuses; refusals cost no one else.
// 4. classification-cases.ts: the output parameter classification.
// 5. health-cases.ts: liveness, readiness, model readiness, the repository index.
// 6. version-change-cases.ts: versions added, removed and broken under a steady stream of requests.
// Composed here once, so the two backends run the same parts in the same order. No test relies on
// another having run: what several tests read is made in a beforeAll, and every test that changes the
// model repository puts it back.
import type { ContractBackend } from './contract-backend.ts';
import { classificationCases } from './classification-cases.ts';
import { useReferenceAnswers } from './contract-samples.ts';
import { errorCases } from './error-cases.ts';
import { healthCases } from './health-cases.ts';
import { inferenceCases } from './inference-cases.ts';
import { metadataCases } from './metadata-cases.ts';
import { versionChangeCases } from './version-change-cases.ts';

export function contractSuite(backend: ContractBackend): void {
  const references = useReferenceAnswers();
  inferenceCases(backend, references);
  metadataCases(backend);
  errorCases(backend);
  classificationCases(backend, references);
  healthCases(backend);
  versionChangeCases(backend, references);
}
