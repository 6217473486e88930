// The contract's metadata cases: model metadata and config in full, the same from both backends but for
// the fields that name the runtime (ContractBackend.runtime).
import { describe, expect, it } from 'vitest';
import type { ContractBackend } from './contract-backend.ts';
import { getJson } from './contract-samples.ts';

export function metadataCases(backend: ContractBackend): void {
  const url = (path: string): string => `${backend.gatewayUrl}${path}`;

  describe(`[${backend.name}] model metadata and config`, () => {
    it.each(['/v2/models/digits', '/v2/models/digits/versions/2'])('GET %s: names, datatypes, shapes (-1 = batch), ready versions', async (path) => {
      expect(await getJson(url(path))).toEqual({
        name: 'digits',
        versions: ['2'],
        platform: backend.runtime.platform,
        inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 64] }],
        outputs: [
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
          { name: 'label', datatype: 'INT64', shape: [-1, 1] },
        ],
      });
    });

    it.each(['/v2/models/text_topic', '/v2/models/text_topic/versions/1'])('GET %s: a model without batching', async (path) => {
      expect(await getJson(url(path))).toEqual({
        name: 'text_topic',
        versions: ['1'],
        platform: backend.runtime.platform,
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1, 1] }],
        outputs: [
          { name: 'label', datatype: 'BYTES', shape: [-1] },
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
        ],
      });
    });

    it.each(['/v2/models/digits/config', '/v2/models/digits/versions/2/config'])('GET %s: the whole config as Triton writes it', async (path) => {
      expect(await getJson(url(path))).toEqual({
        name: 'digits',
        platform: backend.runtime.configPlatform,
        backend: backend.runtime.backend,
        default_model_filename: backend.runtime.defaultModelFilename,
        max_batch_size: 64,
        version_policy: { latest: { num_versions: 1 } },
        input: [{ name: 'pixels', data_type: 'TYPE_FP32', dims: [64], format: 'FORMAT_NONE', is_shape_tensor: false, allow_ragged_batch: false, optional: false }],
        output: [
          { name: 'probabilities', data_type: 'TYPE_FP32', dims: [10], label_filename: '' },
          { name: 'label', data_type: 'TYPE_INT64', dims: [1], label_filename: '', reshape: { shape: [] } },
        ],
        instance_group: [{ name: 'digits_0', kind: 'KIND_CPU', count: 1, gpus: [] }],
        parameters: {},
        dynamic_batching: { preferred_batch_size: [64], max_queue_delay_microseconds: 100, preserve_ordering: false },
      });
    });

    it('GET /v2/models/text_topic/config: the whole config as Triton writes it', async () => {
      expect(await getJson(url('/v2/models/text_topic/config'))).toEqual({
        name: 'text_topic',
        platform: backend.runtime.configPlatform,
        backend: backend.runtime.backend,
        default_model_filename: backend.runtime.defaultModelFilename,
        max_batch_size: 0,
        version_policy: { latest: { num_versions: 1 } },
        input: [{ name: 'text', data_type: 'TYPE_STRING', dims: [-1, 1], format: 'FORMAT_NONE', is_shape_tensor: false, allow_ragged_batch: false, optional: false }],
        output: [
          { name: 'label', data_type: 'TYPE_STRING', dims: [-1], label_filename: '' },
          { name: 'probabilities', data_type: 'TYPE_FP32', dims: [-1, 3], label_filename: '' },
        ],
        instance_group: [{ name: 'text_topic_0', kind: 'KIND_CPU', count: 1, gpus: [] }],
        parameters: {},
      });
    });
  });
}
