// How an ONNX Runtime run failure is sorted: the request's fault (BACKEND_REJECTED) or the model's
// (MODEL_ERROR, as Triton answers for a model that failed: both backends agree, and the batcher halves alike).
import { describe, expect, it } from 'vitest';
import { classifyOrtError } from '../../../gateway/backends/embedded/ort-error.ts';

describe('classifyOrtError', () => {
  it.each([
    ['an input of the wrong rank', new Error('Invalid rank for input: text Got: 1 Expected: 2'), 'BACKEND_REJECTED'],
    ['a kernel failing on the data', new Error("Non-zero status code returned while running Gather node. Name:'g' Status Message: indices out of bounds"), 'BACKEND_REJECTED'],
    ['an allocation failure inside a kernel', new Error("Non-zero status code returned while running MatMul node. Status Message: Failed to allocate memory"), 'MODEL_ERROR'],
    ['anything else from the runtime', new Error('unexpected runtime failure'), 'MODEL_ERROR'],
  ] as const)('%s', (_what, error, code) => {
    const classified = classifyOrtError(error, 'm', '1');
    expect(classified.code).toBe(code);
    expect(classified.message).toContain("model 'm' version 1");
  });
});
