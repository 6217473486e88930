// The `classification: N` output parameter, done as Triton does it (server/src/classification.cc and the
// frontends that call it, seen on Triton 2.51): the output becomes BYTES, each batch entry's elements
// sorted by value, highest first, and the first N written as "value:index" (":label" added when the
// config's label_filename names one for that index). A model with batching is classified per row and
// answers [rows, min(N, row elements)]; one without batching is classified as one flat list and answers
// [min(N, elements)]. Values are written like C++'s std::to_string: integers in decimal, floats as
// printf("%f"). Triton cannot classify BYTES (it crashes), BOOL, FP16 or BF16 outputs; nor can this.
import { GatewayError } from '../../errors.ts';
import { encodeBytesElements } from '../../tensors/bytes-elements.ts';
import { classificationProblem } from '../../tensors/datatype.ts';
import type { Datatype } from '../../tensors/datatype.ts';
import { toTypedArray } from '../../tensors/typed-arrays.ts';
import type { InferRequest, RawTensor } from '../backend.ts';
import type { TensorConfig } from './model-config.ts';

/**
 * The `classification` count of each requested output that has one, refused (as Triton's gRPC endpoint
 * refuses it, INVALID_ARGUMENT) unless it is a whole number >= 1 and the output's datatype can be classified.
 */
export function classificationCounts(request: InferRequest, outputs: readonly TensorConfig[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const output of outputs) {
    const count = request.outputParameters?.[output.name]?.['classification'];
    if (count === undefined) continue;
    const problem = classificationProblem(count, output.datatype);
    if (problem === 'count') {
      throw new GatewayError('BACKEND_REJECTED', `invalid value ${JSON.stringify(count)} for the 'classification' parameter of output '${output.name}': expected a whole number >= 1`);
    }
    if (problem === 'datatype') {
      throw new GatewayError('BACKEND_REJECTED', `class result not available for output '${output.name}' due to unsupported type '${output.datatype}'`);
    }
    // classificationProblem found none: the count is a whole number >= 1.
    counts[output.name] = count as number;
  }
  return counts;
}

/** Top `count` classes of `output` (checked by classificationCounts); `batched` when the model has max_batch_size > 0. */
export function classify(output: RawTensor, count: number, batched: boolean, labels: readonly string[] = []): RawTensor {
  // The count and the datatype were checked once, by classificationCounts, before the run.
  const values = toTypedArray(output.datatype, output.data);
  if (!values.ok) throw new GatewayError('BACKEND_ERROR', `output '${output.name}': ${values.error.message}`);
  const all = values.value as ArrayLike<number | bigint>;
  const rows = batched ? (output.shape[0] ?? 0) : 0;
  const perRow = rows === 0 ? all.length : all.length / rows;
  const classes = Math.min(perRow, count);
  const strings: string[] = [];
  for (let row = 0; row < Math.max(rows, 1); row++) {
    const start = row * perRow;
    const indices = Array.from({ length: perRow }, (_, i) => i);
    // Array.prototype.sort is stable: equal values keep index order, as Triton's std::sort does for the
    // short rows insertion sort handles (under 16 elements); for longer rows with ties Triton's order is unspecified.
    indices.sort((a, b) => compareDescending(all[start + a] as number | bigint, all[start + b] as number | bigint));
    for (const index of indices.slice(0, classes)) {
      const label = labels[index];
      strings.push(`${formatValue(all[start + index] as number | bigint, output.datatype)}:${index}${label === undefined || label === '' ? '' : `:${label}`}`);
    }
  }
  const data = encodeBytesElements(strings);
  if (!data.ok) throw new GatewayError('BACKEND_ERROR', `output '${output.name}': ${data.error.message}`);
  return { name: output.name, datatype: 'BYTES', shape: rows === 0 ? [classes] : [rows, classes], data: data.value };
}

function compareDescending(a: number | bigint, b: number | bigint): number {
  if (a > b) return -1;
  if (a < b) return 1;
  return 0;
}

function formatValue(value: number | bigint, datatype: Datatype): string {
  if (typeof value === 'bigint') return value.toString();
  return datatype === 'FP32' || datatype === 'FP64' ? printfFixed6(value) : String(value);
}

/** printf("%f", value): 6 decimals, an exact tie rounded to even (toFixed rounds it up), C's inf and nan. */
export function printfFixed6(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e21) return `${sign}${BigInt(magnitude).toString()}.000000`;
  const fixed = magnitude.toFixed(6);
  if (!isExactTie(magnitude)) return sign + fixed;
  // toFixed rounded the tie up; C keeps the even neighbour, one unit in the 6th decimal lower when the
  // rounded-up last digit is odd (so 1..9: no borrow). Done on the string: arithmetic on the value cannot
  // step by 1e-6 once one float step is larger.
  const last = Number(fixed.at(-1));
  return sign + (last % 2 === 0 ? fixed : `${fixed.slice(0, -1)}${last - 1}`);
}

/** Whether value * 10^6 ends in exactly .5 (only values with at most 7 binary fraction digits can). */
function isExactTie(value: number): boolean {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  if (exponentBits !== 0) mantissa |= 1n << 52n;
  const exponent = (exponentBits === 0 ? 1 : exponentBits) - 1075;
  if (exponent >= 0) return false;
  // value * 2 * 10^6 = mantissa * 2_000_000 / 2^-exponent must be an odd integer.
  const numerator = mantissa * 2_000_000n;
  const denominator = 1n << BigInt(-exponent);
  return numerator % denominator === 0n && (numerator / denominator) % 2n === 1n;
}
