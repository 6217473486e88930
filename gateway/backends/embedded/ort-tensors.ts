// Raw little-endian tensors (as they cross the Backend seam) <-> ONNX Runtime tensors, through the datatype
// table: its typed arrays (viewed, not copied, where alignment allows: tensors/typed-arrays.ts) and its ORT
// element types. FP16 travels as a Float16Array, as ORT hands it out on Node 24; BYTES become string[] (ORT
// string tensors) and back; BF16 has no ORT type in JavaScript.
import { Tensor } from 'onnxruntime-node';
import type { OnnxValue } from 'onnxruntime-node';
import { GatewayError } from '../../errors.ts';
import { descriptorOf } from '../../tensors/datatype.ts';
import type { Datatype, TensorArray } from '../../tensors/datatype.ts';
import { fromTypedArray, toTypedArray } from '../../tensors/typed-arrays.ts';
import type { RawTensor } from '../backend.ts';

export type OrtType = Tensor.Type;

/** The ORT element type of a protocol datatype; undefined for BF16, which onnxruntime-node lacks. */
export function ortTypeOf(datatype: Datatype): OrtType | undefined {
  return descriptorOf(datatype).ortType;
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
  const bytes = fromTypedArray(datatype, value.data as TensorArray);
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
