// FP32 outputs against onnxruntime's reference: the elements that differ by more than the tolerance,
// described (the first few), so an assertion message says where and by how much.

/** The tolerance the suites use: 1e-5 absolute plus 1e-5 of the expected value. */
const DEFAULT_TOLERANCE = { absolute: 1e-5, relative: 1e-5 } as const;
const SHOWN = 5;

export interface Fp32Tolerance {
  readonly absolute: number;
  readonly relative: number;
}

export function fp32Mismatches(actual: readonly unknown[], expected: readonly (number | string)[], tolerance: Fp32Tolerance = DEFAULT_TOLERANCE): string[] {
  if (actual.length !== expected.length) return [`${actual.length} elements, expected ${expected.length}`];
  const problems: string[] = [];
  actual.forEach((value, index) => {
    const want = Number(expected[index]);
    const ok = typeof value === 'number' && Math.abs(value - want) <= tolerance.absolute + tolerance.relative * Math.abs(want);
    if (!ok && problems.length < SHOWN) problems.push(`[${index}]: ${String(value)}, expected ${want}`);
  });
  return problems;
}
