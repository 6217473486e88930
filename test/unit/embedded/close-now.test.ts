// Shutdown past its grace: close({ now: true }) ends the session workers at once, runs in progress
// included (ONNX Runtime cannot cancel a run), instead of waiting for them without a bound.
import { afterEach, describe, expect, it } from 'vitest';
import type { EmbeddedBackend } from '../../../gateway/backends/embedded/embedded-backend.ts';
import { callOptions, copyRepository, failure, startBackend, textRequest } from './embedded-support.ts';

let backend: EmbeddedBackend | undefined;
let repository: ReturnType<typeof copyRepository> | undefined;

afterEach(async () => {
  await backend?.close();
  repository?.remove();
});

describe('closing the embedded backend now', () => {
  it('fails the run in progress with SHUTTING_DOWN instead of waiting for it', async () => {
    repository = copyRepository();
    backend = await startBackend({ repository: repository.root, maxRows: 1_000_000 });
    // A run of several hundred ms or more: 200k sentences through the TF-IDF model.
    const sentences = Array.from({ length: 200_000 }, (_, index) => `sentence number ${index} about football and pizza`);
    const running = failure(backend.infer(textRequest(sentences), callOptions(60_000)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await backend.close({ now: true });
    const ended = await running;
    expect(ended.code).toBe('SHUTTING_DOWN');
    expect(ended.status).toBe(503);
  }, 60_000);
});
