// Test helper: bytes <-> "00 00 80 3f".

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

export function fromHex(text: string): Uint8Array {
  const parts = text.split(/\s+/).filter((part) => part.length > 0);
  return Uint8Array.from(parts, (part) => Number.parseInt(part, 16));
}

/** A copy of `bytes` at an odd byteOffset inside a larger buffer, to exercise unaligned reads. */
export function unaligned(bytes: Uint8Array): Uint8Array {
  const backing = new Uint8Array(bytes.byteLength + 1);
  backing.set(bytes, 1);
  return backing.subarray(1);
}
