// Checks the parameters of a requested output that the gateway understands before anything is sent:
// `classification: N` (Triton answers the top N classes as BYTES "value:index[:label]") needs a whole
// number N >= 1 and an output whose datatype Triton can rank. Refused here, the same way for both
// backends, rather than by the backend: Triton 2.51 crashes on a BYTES output with classification.
import type { ParameterValue } from '../backends/backend.ts';
import { GatewayError } from '../errors.ts';
import { classificationProblem } from '../tensors/datatype.ts';
import type { TensorSignature } from './model-signature.ts';

/** `requested` is an entry of the request's outputs (`field` names it), `outputs` the model's. */
export function checkOutputParameters(
  field: string,
  requested: { readonly name: string; readonly parameters?: Readonly<Record<string, ParameterValue>> | undefined },
  outputs: readonly TensorSignature[],
): void {
  const classification = requested.parameters?.['classification'];
  const spec = outputs.find((output) => output.name === requested.name);
  if (classification === undefined || spec === undefined) return;
  const problem = classificationProblem(classification, spec.datatype);
  if (problem === 'count') {
    throw new GatewayError('INVALID_OUTPUT', `${field}: parameters.classification must be a whole number >= 1, got ${JSON.stringify(classification)}`);
  }
  if (problem === 'datatype') {
    throw new GatewayError('INVALID_OUTPUT', `${field}: parameters.classification cannot rank a ${spec.datatype} output (only integer, FP32 and FP64 outputs)`);
  }
}
