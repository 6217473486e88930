// Liveness never waits for ONNX Runtime: while the embedded backend runs a request that keeps a core
// busy for seconds (allowed by every limit), GET /health keeps answering in well under the 1 s a
// Kubernetes liveness probe waits. The gateway runs as a child process, so the probes are timed by a
// process whose own event loop the run cannot hold.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_EMBEDDED_MAX_ROWS } from '../../../gateway/backends/embedded/run-limits.ts';
import { buildInferRequest } from '../../support/binary-infer.ts';
import { startGatewayProcess } from '../../support/gateway-process.ts';
import type { GatewayProcess } from '../../support/gateway-process.ts';
import { writeOnnxModel } from '../../support/onnx-model-writer.ts';

/** A chain of 512 x 512 MatMuls: at the default row cap one run is ~3 s of one core (measured here). */
const LAYERS = 32;
const WIDTH = 512;
const ROWS = DEFAULT_EMBEDDED_MAX_ROWS;
const LIVENESS_PROBE_TIMEOUT_MS = 1000;
const PROBE_EVERY_MS = 100;
/** Probes sent while the run is going, for the test to mean anything. */
const MIN_PROBES_DURING_RUN = 5;

const CONFIG = `name: "slow"
backend: "onnxruntime"
max_batch_size: 0
input [ { name: "x", data_type: TYPE_FP32, dims: [ -1, 1 ] } ]
output [ { name: "y", data_type: TYPE_FP32, dims: [ -1, 1 ] } ]
`;

let root: string;
let gateway: GatewayProcess;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'slow-model-'));
  const nodes = [{ op: 'MatMul', inputs: ['x', 'A'], output: 'h0' }];
  for (let i = 1; i <= LAYERS; i++) nodes.push({ op: 'MatMul', inputs: [`h${i - 1}`, 'B'], output: `h${i}` });
  nodes.push({ op: 'MatMul', inputs: [`h${LAYERS}`, 'C'], output: 'y' });
  await writeOnnxModel(root, 'slow', CONFIG, {
    inputs: [{ name: 'x', dims: [-1, 1] }],
    outputs: [{ name: 'y', dims: [-1, 1] }],
    constants: [
      { name: 'A', dims: [1, WIDTH], value: 0.01 },
      { name: 'B', dims: [WIDTH, WIDTH], value: 0.001 },
      { name: 'C', dims: [WIDTH, 1], value: 0.01 },
    ],
    nodes,
  });
  gateway = await startGatewayProcess(undefined, { MODEL_REPOSITORY: root, MODEL_POLL_INTERVAL_MS: '0', REQUEST_TIMEOUT_MS: '60000' });
});

afterAll(async () => {
  gateway?.child.kill('SIGKILL');
  await gateway?.exited;
  await rm(root, { recursive: true, force: true });
});

it('GET /health answers in < 1 s throughout a multi-second embedded run', { timeout: 60_000 }, async () => {
  // A small binary body (32 KB): reading it costs the gateway nearly nothing, so only the run can hold it.
  const { body, headers } = buildInferRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [ROWS, 1], data: new Array<number>(ROWS).fill(1), binary: true }] });
  let running = true;
  const infer = fetch(`${gateway.url}/v2/models/slow/infer`, { method: 'POST', headers, body }).then(async (response) => {
    running = false;
    return { status: response.status, text: await response.text() };
  });
  const latencies: number[] = [];
  while (running) {
    await sleep(PROBE_EVERY_MS);
    const started = performance.now();
    const response = await fetch(`${gateway.url}/health`);
    await response.arrayBuffer();
    // Every probe sent while the model ran counts, also the one the run may have held until its end.
    latencies.push(performance.now() - started);
    expect(response.status).toBe(200);
  }
  const answer = await infer;
  expect(answer.status, answer.text).toBe(200);
  expect(Math.max(...latencies), `liveness latencies (ms): ${latencies.map(Math.round).join(', ')}`).toBeLessThan(LIVENESS_PROBE_TIMEOUT_MS);
  expect(latencies.length, 'probes sent while the model ran').toBeGreaterThanOrEqual(MIN_PROBES_DURING_RUN);
});
