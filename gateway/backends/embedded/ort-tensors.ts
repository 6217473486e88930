// Raw little-endian tensors (as they cross the Backend seam) <-> ONNX Runtime tensors. Fixed-size data is
// viewed, not copied, where alignment allows (tensors/typed-arrays.ts); BYTES become string[] (ORT
// string tensors) and back. FP16 travels as its 16-bit patterns; BF16 has no ORT type in JavaScript.
import { Tensor } from 'onnxruntime-node';
import type { OnnxValue } from 'onnxruntime-node';
import { GatewayError } from '../../errors.ts';
import type { Datatype } from '../../tensors/datatype.ts';
import { fromTypedArray, toTypedArray } from '../../tensors/typed-arrays.ts';
import type { TensorArray } from '../../tensors/typed-arrays.ts';
import type { RawTensor } from '../backend.ts';

export type OrtType = Tensor.Type;

const ORT_TYPE_OF: Readonly<Record<Datatype, OrtType | undefined>> = Object.freeze({
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BF16: undefined,
  BYTES: 'string',
});

/** The ORT element type of a protocol datatype; undefined for BF16, which onnxruntime-node lacks. */
export function ortTypeOf(datatype: Datatype): OrtType | undefined {
  return ORT_TYPE_OF[datatype];
}

/** An ORT tensor of the given shape over the input's bytes; BACKEND_REJECTED when the bytes are malformed. */
export function toOrtTensor(input: RawTensor, shape: readonly number[]): Tensor {
  const type = ortTypeOf(input.datatype);
  if (type === undefined) throw new GatewayError('BACKEND_REJECTED', `input '${input.name}': datatype ${input.datatype} is not supported by the embedded backend`);
  const array = toTypedArray(input.datatype, input.data);
  if (!array.ok) throw new GatewayError('BACKEND_REJECTED', `input '${input.name}': ${array.error.message}`);
  if (input.datatype === 'BYTES') rejectNulBytes(input.name, array.value as readonly string[]);
  try {
    return new Tensor(type, array.value as Tensor.DataTypeMap[typeof type], [...shape]);
  } catch (error) {
    throw new GatewayError('BACKEND_REJECTED', `input '${input.name}': ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * The raw bytes of an ORT output, checked against the datatype the config promises; BACKEND_ERROR when
 * the model answered something else (a non-tensor, another element type).
 */
export function fromOrtValue(name: string, datatype: Datatype, value: OnnxValue | undefined, shape: readonly number[]): RawTensor {
  const expected = ortTypeOf(datatype);
  if (!(value instanceof Tensor)) throw new GatewayError('BACKEND_ERROR', `model gave no tensor for output '${name}'`);
  if (value.type !== expected) {
    throw new GatewayError('BACKEND_ERROR', `model output '${name}' has element type ${value.type}, but the config says ${datatype}`);
  }
  const bytes = fromTypedArray(datatype, dataOf(value));
  if (!bytes.ok) throw new GatewayError('BACKEND_ERROR', `model output '${name}': ${bytes.error.message}`);
  return { name, datatype, shape, data: bytes.value };
}

/**
 * onnxruntime-node builds string tensors from C strings, which end at the first NUL byte: the model would
 * silently see a shorter text. Refusing is honest; the client can strip or escape the byte.
 */
function rejectNulBytes(name: string, elements: readonly string[]): void {
  const index = elements.findIndex((element) => element.includes('\u0000'));
  if (index >= 0) {
    throw new GatewayError('BACKEND_REJECTED', `input '${name}': element ${index} contains a NUL byte, which the embedded backend's ONNX Runtime string tensors cannot carry`);
  }
}

function dataOf(tensor: Tensor): TensorArray {
  const data: unknown = tensor.data;
  // With Float16Array available (Node 24), ORT hands float16 out as one; the wire wants its bit patterns.
  if (tensor.type === 'float16' && ArrayBuffer.isView(data) && !(data instanceof Uint16Array) && data.byteLength === tensor.size * 2) {
    return new Uint16Array(data.buffer, data.byteOffset, tensor.size);
  }
  return data as TensorArray;
}
