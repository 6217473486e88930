// A session worker that dies (here: out of its own heap decoding a huge BYTES input, the likely way in
// production) must not leave its version READY and failing every request: the version is reported
// UNAVAILABLE with a reason, then reloaded, and serves again.
import { describe, expect, it } from 'vitest';
import { backendOnCopyPerTest, callOptions, capturingLogger, failure, textRequest, waitFor } from './embedded-support.ts';

const startOnCopy = backendOnCopyPerTest();

describe('a session worker that dies', () => {
  it('takes its version out of service, which is reloaded and serves again', async () => {
    const { logger, lines } = capturingLogger();
    // A small worker heap, so that decoding 300k strings in the worker exhausts it.
    const { backend } = await startOnCopy({ workerHeapMb: 16, maxRows: 1_000_000, logger });
    expect((await backend.infer(textRequest(['pizza and pasta']), callOptions())).model).toBe('text_topic');

    const huge = Array.from({ length: 300_000 }, (_, index) => `sentence number ${index} about football and pizza`);
    const died = await failure(backend.infer(textRequest(huge), callOptions(20_000)));
    expect(died.code).toBe('MODEL_ERROR');
    expect(died.message).toMatch(/session worker/);

    // Recovers without a poll (pollIntervalMs is 0) and without an explicit load.
    await waitFor('the version to serve again', async () => (await backend.infer(textRequest(['pizza and pasta']), callOptions())).model === 'text_topic');
    expect(await backend.modelReady('text_topic', '1')).toBe(true);
    expect(lines.some((line) => line.level === 'warn' && /session worker/.test(line.msg))).toBe(true);
  }, 60_000);
});
