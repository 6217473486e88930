// What only a Triton backend can show: the gateway's model metadata, config and repository index against
// Triton's own HTTP answers for the same models. The correctness checks (every output of 300 digits and
// 100 texts equal to onnxruntime's, JSON and binary, batch sizes 1..64, latest and pinned versions), the
// errors, readiness and version changes run against both backends in test/contract/.
import { describe, expect, it } from 'vitest';
import { useTritonContractBackend } from '../contract/contract-backend.ts';

const backend = useTritonContractBackend();

describe('what the gateway says about the models, next to what Triton itself says', () => {
  it('mirrors the metadata of the real Triton', async () => {
    for (const path of ['/v2/models/digits', '/v2/models/digits/versions/2', '/v2/models/text_topic']) {
      expect(await gatewayJson('GET', path), path).toEqual(await tritonJson('GET', path));
    }
  });

  // Every field the gateway sends must be Triton's own (it once added "reshape": null and proto-loader's
  // "policy_choice" oneof marker); fields of Triton's that the project's proto leaves out may be missing.
  it('says nothing in the config JSON that Triton itself would not say', async () => {
    for (const model of ['digits', 'text_topic']) {
      const ours = await gatewayJson('GET', `/v2/models/${model}/config`);
      expect(await tritonJson('GET', `/v2/models/${model}/config`), model).toMatchObject(ours as object);
    }
  });

  it('passes on Triton\'s repository index as Triton writes it', async () => {
    for (const body of [{}, { ready: true }]) {
      expect(await gatewayJson('POST', '/v2/repository/index', body), JSON.stringify(body)).toEqual(await tritonJson('POST', '/v2/repository/index', body));
    }
  });
});

async function gatewayJson(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${backend.gatewayUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (response.status !== 200) throw new Error(`gateway ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** Triton's own HTTP answer, the yardstick for what the gateway says. */
async function tritonJson(method: string, path: string, body?: unknown): Promise<unknown> {
  const answer = await backend.triton.request(method, path, body);
  if (answer.status !== 200) throw new Error(`Triton ${method} ${path}: HTTP ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body);
}
