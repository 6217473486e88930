// The README's first requests, run as written against `npm start`'s default (the embedded backend on
// model_repository/): each curl example must return exactly the JSON answer the README shows after it.
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/gateway-process.ts';
import { startTestGateway } from '../support/gateway-harness.ts';
import { readmeExamples } from '../support/readme-examples.ts';

describe('README examples', () => {
  const examples = readmeExamples();

  it('finds the examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
  });

  it.each(examples.map((example) => [example.path, example] as const))('%s answers as documented', async (_path, example) => {
    const gateway = await startTestGateway(undefined, { MODEL_REPOSITORY: `${REPO_ROOT}model_repository`, MODEL_POLL_INTERVAL_MS: '0' });
    try {
      const response = await fetch(`${gateway.url}${example.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: example.body });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(JSON.parse(example.answer));
    } finally {
      await gateway.close();
    }
  });
});
