// Which requests may share a batch: same model, same version (a pinned one, or "latest" which Triton
// resolves per batch), same inputs (names, datatypes, every dimension but the batch one, in order) and
// the same requested outputs.
import type { InferRequest } from '../backends/backend.ts';

export function batchKey(request: InferRequest): string {
  const inputs = request.inputs.map((input) => `${input.name}:${input.datatype}:${input.shape.slice(1).join('x')}`).join(',');
  return `${request.model}\u0000${request.version}\u0000${inputs}\u0000${request.outputs.join(',')}`;
}
