/**
 * The BYTES wire format: each element is a 4-byte little-endian unsigned length followed by that
 * many bytes, elements concatenated with no padding. Strings travel as UTF-8.
 */

import { Buffer } from 'node:buffer';
import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { BYTES_LENGTH_PREFIX_SIZE } from './datatype.ts';
import { describeValue, elementError } from './tensor-data-error.ts';
import type { TensorDataError } from './tensor-data-error.ts';

/**
 * Length-prefixed UTF-8 of each element. Every element must be a string of whole characters (the error
 * names the first that is not): a lone surrogate (a JSON "\ud800" escape) has no UTF-8 form, and
 * turning it into U+FFFD would change the client's data silently, as invalid UTF-8 would (refused too).
 * Sizes the output once: one pass for the lengths, one to write.
 */
export function encodeBytesElements(elements: readonly unknown[]): Result<Uint8Array, TensorDataError> {
  const count = elements.length;
  let total = count * BYTES_LENGTH_PREFIX_SIZE;
  for (let i = 0; i < count; i++) {
    const element = elements[i];
    if (typeof element !== 'string') {
      return err(elementError('type', i, `expected a string for BYTES, got ${describeValue(element)}`));
    }
    if (!element.isWellFormed()) {
      return err(elementError('type', i, 'holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape), which is no character; send valid text, or the bytes as binary data'));
    }
    total += Buffer.byteLength(element, 'utf8');
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const text = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    // Checked to be strings above.
    const written = text.write(elements[i] as string, offset + BYTES_LENGTH_PREFIX_SIZE, 'utf8');
    view.setUint32(offset, written, true);
    offset += BYTES_LENGTH_PREFIX_SIZE + written;
  }
  return ok(out);
}

/**
 * Number of length-prefixed elements, failing on a prefix or an element that runs past the end.
 */
export function countBytesElements(bytes: Uint8Array): Result<number, TensorDataError> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.byteLength;
  let offset = 0;
  let count = 0;
  while (offset < end) {
    const left = end - offset;
    if (left < BYTES_LENGTH_PREFIX_SIZE) {
      return err(
        elementError('truncated', count, `length prefix at byte ${offset} is truncated (${left} of 4 bytes present)`),
      );
    }
    const length = view.getUint32(offset, true);
    if (length > left - BYTES_LENGTH_PREFIX_SIZE) {
      return err(
        elementError(
          'truncated',
          count,
          `length ${length} at byte ${offset} runs past the end of the data (${left - BYTES_LENGTH_PREFIX_SIZE} bytes left)`,
        ),
      );
    }
    offset += BYTES_LENGTH_PREFIX_SIZE + length;
    count++;
  }
  return ok(count);
}

/**
 * Each element decoded as UTF-8, non-fatally (invalid sequences become U+FFFD; a leading BOM is
 * kept). Fails like countBytesElements on malformed data.
 */
export function decodeBytesElements(bytes: Uint8Array): Result<string[], TensorDataError> {
  const counted = countBytesElements(bytes);
  if (!counted.ok) return counted;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let offset = 0;
  for (let i = 0; i < counted.value; i++) {
    const length = view.getUint32(offset, true);
    const start = offset + BYTES_LENGTH_PREFIX_SIZE;
    out.push(text.toString('utf8', start, start + length));
    offset = start + length;
  }
  return ok(out);
}

/**
 * Byte offset just past `count` length-prefixed elements starting at byte `start`, or undefined when
 * the data ends first. Used to cut a BYTES tensor into row ranges without decoding it.
 */
export function offsetAfterBytesElements(bytes: Uint8Array, start: number, count: number): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = start;
  for (let i = 0; i < count; i++) {
    if (offset + BYTES_LENGTH_PREFIX_SIZE > bytes.byteLength) return undefined;
    offset += BYTES_LENGTH_PREFIX_SIZE + view.getUint32(offset, true);
    if (offset > bytes.byteLength) return undefined;
  }
  return offset;
}
