/**
 * Checks on raw tensor bytes (the binary data extension, Triton's raw_output_contents): element
 * count from the byte length, and BYTES length prefixes that must stay inside the data.
 * Contents are not inspected otherwise (a BOOL byte other than 0 or 1 passes and reads as true).
 */

import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { countBytesElements } from './bytes-elements.ts';
import { elementSize } from './datatype.ts';
import type { Datatype } from './datatype.ts';
import { tensorDataError } from './tensor-data-error.ts';
import type { TensorDataError } from './tensor-data-error.ts';

/**
 * Number of elements in raw bytes: byte length / element size for fixed-size types (which must
 * divide evenly); for BYTES, the number of length-prefixed elements, failing on a prefix or an
 * element that runs past the end.
 */
export function countRawElements(datatype: Datatype, bytes: Uint8Array): Result<number, TensorDataError> {
  const size = elementSize(datatype);
  if (size === undefined) return countBytesElements(bytes);
  if (bytes.byteLength % size !== 0) {
    return err(
      tensorDataError('length', `${bytes.byteLength} bytes is not a whole number of ${size}-byte ${datatype} elements`),
    );
  }
  return ok(bytes.byteLength / size);
}

/** Checks that raw bytes hold exactly `expectedCount` elements of the datatype. */
export function checkRawLength(
  datatype: Datatype,
  bytes: Uint8Array,
  expectedCount: number,
): Result<void, TensorDataError> {
  const size = elementSize(datatype);
  if (size === undefined) {
    const counted = countBytesElements(bytes);
    if (!counted.ok) return counted;
    if (counted.value !== expectedCount) {
      return err(tensorDataError('count', `expected ${expectedCount} elements, got ${counted.value}`));
    }
    return ok(undefined);
  }
  const expectedBytes = expectedCount * size;
  if (bytes.byteLength !== expectedBytes) {
    return err(
      tensorDataError(
        'length',
        `expected ${expectedCount} ${datatype} elements (${expectedBytes} bytes), got ${bytes.byteLength} bytes`,
      ),
    );
  }
  return ok(undefined);
}
