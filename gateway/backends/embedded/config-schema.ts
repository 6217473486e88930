// The part of Triton's model_config.proto that the embedded backend reads, as a schema: which fields are
// repeated, which are enums (names in enum-value order), which messages nest. The same subset as
// proto/model_config.proto, so a config parsed here has exactly the JSON shape the Triton backend gets
// from proto-loader (keepCase, enums as names, longs as numbers, defaults, oneofs).
import { CONFIG_TYPE_NAMES } from '../../tensors/datatype.ts';

export type ScalarKind = 'string' | 'bool' | 'int32' | 'uint32' | 'int64' | 'uint64';

export type FieldKind =
  | { readonly type: 'scalar'; readonly scalar: ScalarKind }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | { readonly type: 'message'; readonly schema: MessageSchema }
  /** map<string, message>: written in text format as repeated `{ key: "..." value { ... } }`. */
  | { readonly type: 'map'; readonly value: MessageSchema };

export interface FieldSchema {
  readonly kind: FieldKind;
  readonly repeated?: boolean;
}

export interface MessageSchema {
  readonly name: string;
  readonly fields: Readonly<Record<string, FieldSchema>>;
  /** oneof name -> member fields; the output names the member that is set under the oneof name. */
  readonly oneofs?: Readonly<Record<string, readonly string[]>>;
}

const scalar = (kind: ScalarKind, repeated = false): FieldSchema => ({ kind: { type: 'scalar', scalar: kind }, repeated });
const enumOf = (values: readonly string[]): FieldSchema => ({ kind: { type: 'enum', values } });
const messageOf = (schema: MessageSchema, repeated = false): FieldSchema => ({ kind: { type: 'message', schema }, repeated });

const DATA_TYPE = enumOf(['TYPE_INVALID', ...CONFIG_TYPE_NAMES]);

const RESHAPE: MessageSchema = { name: 'ModelTensorReshape', fields: { shape: scalar('int64', true) } };

const VERSION_POLICY: MessageSchema = {
  name: 'ModelVersionPolicy',
  fields: {
    latest: messageOf({ name: 'Latest', fields: { num_versions: scalar('uint32') } }),
    all: messageOf({ name: 'All', fields: {} }),
    specific: messageOf({ name: 'Specific', fields: { versions: scalar('int64', true) } }),
  },
  oneofs: { policy_choice: ['latest', 'all', 'specific'] },
};

const MODEL_INPUT: MessageSchema = {
  name: 'ModelInput',
  fields: {
    name: scalar('string'),
    data_type: DATA_TYPE,
    format: enumOf(['FORMAT_NONE', 'FORMAT_NHWC', 'FORMAT_NCHW']),
    dims: scalar('int64', true),
    reshape: messageOf(RESHAPE),
    is_shape_tensor: scalar('bool'),
    allow_ragged_batch: scalar('bool'),
    optional: scalar('bool'),
  },
};

const MODEL_OUTPUT: MessageSchema = {
  name: 'ModelOutput',
  fields: {
    name: scalar('string'),
    data_type: DATA_TYPE,
    dims: scalar('int64', true),
    label_filename: scalar('string'),
    reshape: messageOf(RESHAPE),
  },
};

const INSTANCE_GROUP: MessageSchema = {
  name: 'ModelInstanceGroup',
  fields: {
    name: scalar('string'),
    count: scalar('int32'),
    gpus: scalar('int32', true),
    kind: enumOf(['KIND_AUTO', 'KIND_GPU', 'KIND_CPU', 'KIND_MODEL']),
  },
};

const DYNAMIC_BATCHING: MessageSchema = {
  name: 'ModelDynamicBatching',
  fields: {
    preferred_batch_size: scalar('int32', true),
    max_queue_delay_microseconds: scalar('uint64'),
    preserve_ordering: scalar('bool'),
  },
};

export const MODEL_CONFIG_SCHEMA: MessageSchema = {
  name: 'ModelConfig',
  fields: {
    name: scalar('string'),
    platform: scalar('string'),
    version_policy: messageOf(VERSION_POLICY),
    max_batch_size: scalar('int32'),
    input: messageOf(MODEL_INPUT, true),
    output: messageOf(MODEL_OUTPUT, true),
    instance_group: messageOf(INSTANCE_GROUP, true),
    default_model_filename: scalar('string'),
    dynamic_batching: messageOf(DYNAMIC_BATCHING),
    parameters: { kind: { type: 'map', value: { name: 'ModelParameter', fields: { string_value: scalar('string') } } } },
    backend: scalar('string'),
  },
};
