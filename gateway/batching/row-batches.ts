// Tensor row arithmetic for the batcher: concatenating members' inputs along the batch dimension, and
// cutting a batch's outputs back into each member's rows. Raw little-endian data concatenates as bytes;
// BYTES elements are self-delimiting, so they concatenate as bytes too and are cut at element borders.
import type { RawTensor } from '../backends/backend.ts';
import { GatewayError } from '../errors.ts';
import { offsetAfterBytesElements } from '../tensors/bytes-elements.ts';
import { elementSize } from '../tensors/datatype.ts';
import { elementCount } from '../tensors/shape.ts';

/** Joins the same-named inputs of several requests (in the same order) into one batch tensor each. */
export function concatRows(members: readonly (readonly RawTensor[])[]): RawTensor[] {
  const first = members[0];
  if (first === undefined) return [];
  return first.map((tensor, index) => {
    const parts = members.map((inputs) => inputs[index] as RawTensor);
    const rows = parts.reduce((sum, part) => sum + (part.shape[0] ?? 0), 0);
    const data = parts.length === 1 ? tensor.data : Buffer.concat(parts.map((part) => part.data));
    return { name: tensor.name, datatype: tensor.datatype, shape: [rows, ...tensor.shape.slice(1)], data };
  });
}

/**
 * Cuts each output of a batch into consecutive row ranges, one per member, in member order. Throws
 * BACKEND_ERROR when the backend answered a different number of rows than it was sent.
 */
export function splitRows(outputs: readonly RawTensor[], rowCounts: readonly number[]): RawTensor[][] {
  const totalRows = rowCounts.reduce((sum, rows) => sum + rows, 0);
  const perMember: RawTensor[][] = rowCounts.map(() => []);
  for (const output of outputs) {
    if (output.shape[0] !== totalRows) {
      throw new GatewayError('BACKEND_ERROR', `output "${output.name}" has ${output.shape[0] ?? 'no'} rows for a batch of ${totalRows}`);
    }
    const rowShape = output.shape.slice(1);
    const elementsPerRow = elementCount(rowShape);
    const size = elementSize(output.datatype);
    let offset = 0;
    rowCounts.forEach((rows, member) => {
      const end = size === undefined ? offsetAfterBytesElements(output.data, offset, rows * elementsPerRow) : offset + rows * elementsPerRow * size;
      if (end === undefined || end > output.data.byteLength) {
        throw new GatewayError('BACKEND_ERROR', `output "${output.name}" holds fewer bytes than its shape says`);
      }
      perMember[member]?.push({ name: output.name, datatype: output.datatype, shape: [rows, ...rowShape], data: output.data.subarray(offset, end) });
      offset = end;
    });
  }
  return perMember;
}
