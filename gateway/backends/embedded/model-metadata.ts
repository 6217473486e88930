// ModelMetadata as Triton reports it for an ONNX model: protocol datatype names (BYTES for TYPE_STRING),
// the config's dims (not the reshape), with a leading -1 batch dimension when max_batch_size > 0, and
// the model's READY versions.
import type { ModelMetadata, TensorMetadata } from '../backend.ts';
import { ONNX_PLATFORM } from './model-config.ts';
import type { EmbeddedModelConfig, TensorConfig } from './model-config.ts';

export function modelMetadata(config: EmbeddedModelConfig, readyVersions: readonly number[]): ModelMetadata {
  const tensor = (entry: TensorConfig): TensorMetadata => ({
    name: entry.name,
    datatype: entry.datatype,
    shape: config.maxBatchSize > 0 ? [-1, ...entry.dims] : [...entry.dims],
  });
  return {
    name: config.name,
    versions: readyVersions.map(String),
    platform: ONNX_PLATFORM,
    inputs: config.inputs.map(tensor),
    outputs: config.outputs.map(tensor),
  };
}
