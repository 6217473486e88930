// Shutdown past its grace: close({ now: true }) fails the runs in progress at once (ONNX Runtime cannot
// cancel a run, and nobody waits for them after the drain) and ends each session worker once its run has
// returned, since ending a thread inside a run aborts the process.
import { describe, expect, it } from 'vitest';
import { backendOnCopyPerTest, callOptions, failure, textRequest } from './embedded-support.ts';

const startOnCopy = backendOnCopyPerTest();

describe('closing the embedded backend now', () => {
  it('fails the run in progress with SHUTTING_DOWN instead of waiting for it', async () => {
    const { backend } = await startOnCopy({ maxRows: 1_000_000 });
    // A run of several hundred ms or more: 200k sentences through the TF-IDF model.
    const sentences = Array.from({ length: 200_000 }, (_, index) => `sentence number ${index} about football and pizza`);
    const order: string[] = [];
    const running = failure(backend.infer(textRequest(sentences), callOptions(60_000))).finally(() => order.push('request answered'));
    // Late enough that the run is inside ONNX Runtime's native code on most machines: ending the thread
    // there used to abort this whole process (SIGABRT; onnxruntime-node's C++ exception on return).
    await new Promise((resolve) => setTimeout(resolve, 400));
    await backend.close({ now: true }).then(() => order.push('backend closed'));
    const ended = await running;
    expect(ended.code).toBe('SHUTTING_DOWN');
    expect(ended.status).toBe(503);
    // The request is answered at once; the thread ends only after the run returned.
    expect(order).toEqual(['request answered', 'backend closed']);
  }, 60_000);
});
