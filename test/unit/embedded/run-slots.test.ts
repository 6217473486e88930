// The cap on ONNX Runtime runs at once across all loaded versions (each version runs one at a time in
// its own worker; without a cap, runs of different models all execute together and peak memory and
// threads grow with the number of models in use).
import { describe, expect, it } from 'vitest';
import { backendOnCopyPerTest, callOptions, digitsRequest, textRequest } from './embedded-support.ts';

const startOnCopy = backendOnCopyPerTest();

describe('maxConcurrentRuns', () => {
  it('with 1, a run of another model waits for the run in progress', async () => {
    const { backend } = await startOnCopy({ maxRows: 1_000_000, maxConcurrentRuns: 1 });
    const finished: string[] = [];
    const sentences = Array.from({ length: 50_000 }, (_, index) => `sentence number ${index} about football and pizza`);
    const long = backend.infer(textRequest(sentences), callOptions(60_000)).then(() => finished.push('text'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const short = backend.infer(digitsRequest(1), callOptions(60_000)).then(() => finished.push('digits'));
    await Promise.all([long, short]);
    expect(finished).toEqual(['text', 'digits']);
  }, 60_000);
});
