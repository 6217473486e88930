// The images as a pod runs them: the gateway container in front of a Triton container on one network
// (podman here, Docker elsewhere), started with testcontainers. Triton is the project's CPU image serving
// a twin of model_repository/ whose digits model takes 300 ms a batch (the twins import onnxruntime in the
// image's Python; compose.test.ts runs NVIDIA's image when TRITON_IMAGE names it). Shown
// here: answers equal onnxruntime's; the gateway image runs as the user, PID 1 and heap cap it promises
// and its HEALTHCHECK works; /ready follows the Triton container going and coming back; and stopping the
// gateway container under load answers every request it had accepted.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { GenericContainer, getContainerRuntimeClient, Network, Wait } from 'testcontainers';
import type { StartedNetwork, StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInferRequest, readInferResponse } from '../support/binary-infer.ts';
import { SKIP_CONTAINER_TESTS } from '../support/containers/container-engine.ts';
import type { ContainerEngine } from '../support/containers/container-engine.ts';
import { containerImages, GATEWAY_IMAGE, TRITON_CPU_IMAGE } from '../support/containers/images.ts';
import { eventually } from '../support/gateway-harness.ts';
import { HUNG, NO_ANSWER, startDigitsLoad, tally } from '../support/infer-load.ts';
import { ContainerTritonLauncher } from '../support/real-triton/container-triton-launcher.ts';
import { referenceInfer } from '../support/real-triton/reference-infer.ts';
import { printTritonLogOnFailure } from '../support/real-triton/triton-log-on-failure.ts';
import type { TritonServerHandle } from '../support/real-triton/triton-server.ts';
import { createTwinRepository } from '../support/real-triton/twin-repository.ts';
import type { TwinRepository } from '../support/real-triton/twin-repository.ts';
import { fp32Mismatches } from '../support/fp32-mismatches.ts';

const run = promisify(execFile);

const TRITON_ALIAS = 'triton';
const GATEWAY_PORT = 8080;
const POLL_MS = 500;
const CONTROL_TIMEOUT_MS = 1000;
/** Each Triton execute() of digits sleeps this long, so a stop surely finds requests in flight. */
const DIGITS_DELAY_MS = 300;
const SHUTDOWN_GRACE_MS = 10_000;
const CLIENTS = 32;
const START_TIMEOUT_MS = 10 * 60_000;
const digits = JSON.parse(readFileSync(new URL('../fixtures/digits-sample.json', import.meta.url), 'utf8')) as { images: number[][] };
const texts = JSON.parse(readFileSync(new URL('../fixtures/texts-sample.json', import.meta.url), 'utf8')) as { texts: string[] };
const IMAGES = digits.images.slice(0, 64);
const TEXTS = texts.texts.slice(0, 20);

describe.skipIf(SKIP_CONTAINER_TESTS)('the gateway image in front of a Triton container', () => {
  let engine: ContainerEngine;
  let network: StartedNetwork | undefined;
  let twin: TwinRepository | undefined;
  let triton: TritonServerHandle | undefined;
  let gateway: StartedTestContainer | undefined;
  printTritonLogOnFailure(() => triton);

  beforeAll(async () => {
    engine = await containerImages();
    network = await new Network().start();
    twin = await createTwinRepository({ behaviour: { 'digits/2': { inferDelayMs: DIGITS_DELAY_MS } } });
    triton = await new ContainerTritonLauncher({ image: TRITON_CPU_IMAGE, network: { network, alias: TRITON_ALIAS } }).launch({ repository: twin.path, modelControl: 'poll' });
    await triton.waitReady(60_000);
    gateway = await startGatewayContainer(network);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    // Each step whatever the one before did: a container left running would keep the network alive.
    await Promise.allSettled([gateway?.stop({ timeout: 20_000 }), triton?.stop()]);
    await Promise.allSettled([network?.stop(), twin?.remove()]);
  }, 60_000);

  const url = (): string => `http://${gateway?.getHost() ?? ''}:${gateway?.getMappedPort(GATEWAY_PORT) ?? 0}`;

  it('answers every digit and text as onnxruntime computes it, JSON and binary', async () => {
    const [digitsExpected, textsExpected] = await Promise.all([
      referenceInfer({ model: 'digits', version: '2', inputs: { pixels: { shape: [IMAGES.length, 64], data: IMAGES.flat() } } }),
      referenceInfer({ model: 'text_topic', version: '1', inputs: { text: { shape: [TEXTS.length, 1], data: TEXTS } } }),
    ]);
    // One binary batch of 64 rows, and 64 one-row JSON requests at once (the gateway batches those).
    const batch = await infer(url(), 'digits', [{ name: 'pixels', datatype: 'FP32', shape: [IMAGES.length, 64], data: IMAGES.flat(), binary: true }], true);
    expect(batch.get('label')).toEqual(digitsExpected['label']?.data);
    expect(fp32Mismatches(batch.get('probabilities') ?? [], digitsExpected['probabilities']?.data ?? [], { absolute: 1e-5, relative: 0 })).toEqual([]);
    const single = await Promise.all(IMAGES.map((image) => infer(url(), 'digits', [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: image, binary: false }], false)));
    expect(single.map((answer) => answer.get('label')?.[0])).toEqual(digitsExpected['label']?.data);
    const text = await infer(url(), 'text_topic', [{ name: 'text', datatype: 'BYTES', shape: [TEXTS.length, 1], data: TEXTS, binary: false }], false);
    expect(text.get('label')).toEqual(textsExpected['label']?.data);
  });

  it('runs node as PID 1 under uid 1000 with the heap cap, and its HEALTHCHECK passes', async () => {
    const container = need(gateway);
    const identity = await container.exec(['sh', '-c', 'id -u; id -g; tr "\\0" " " </proc/1/cmdline; echo']);
    const [uid, gid, pid1] = identity.output.trim().split('\n');
    expect({ uid, gid, pid1: pid1?.trim() }).toEqual({ uid: '1000', gid: '1000', pid1: 'node dist/gateway/main.js' });
    // The heap V8 really gets with the image's NODE_OPTIONS (not just the variable's text).
    const cap = Number(/--max-old-space-size=(\d+)/.exec(readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8'))?.[1]);
    const heap = await container.exec(['node', '-p', 'Math.round(require("node:v8").getHeapStatistics().heap_size_limit / 1048576)']);
    expect(Number(heap.output.trim()) - cap, `heap_size_limit ${heap.output.trim()} MiB for --max-old-space-size=${cap}`).toBeGreaterThanOrEqual(0);
    expect(Number(heap.output.trim()) - cap).toBeLessThan(64);
    // The image's own HEALTHCHECK command (podman runs no health checks by itself here; Docker does).
    const client = await getContainerRuntimeClient();
    const inspected = await client.container.inspect(client.container.getById(container.getId()));
    const test = inspected.Config.Healthcheck?.Test ?? [];
    expect(test.slice(0, 2), 'HEALTHCHECK of the image (podman needs --format docker to keep it)').toEqual(['CMD', 'node']);
    expect((await container.exec(test.slice(1))).exitCode).toBe(0);
  });

  it('/ready follows the Triton container: 503 within a poll of it dying, 200 again once it is back', async () => {
    const handle = need(triton);
    await eventually(async () => (await fetch(`${url()}/ready`)).status === 200, 10_000);
    const killed = Date.now();
    await handle.kill();
    // A poll interval, the poll's own call timeout, and slack for a loaded machine.
    await eventually(async () => (await fetch(`${url()}/ready`)).status === 503, POLL_MS + CONTROL_TIMEOUT_MS + 1500, 50);
    const notReadyAfter = Date.now() - killed;
    const body = (await (await fetch(`${url()}/ready`)).json()) as { reasons: string[] };
    expect(body.reasons.join('; ')).toMatch(/triton unreachable/);
    expect((await fetch(`${url()}/health`)).status, 'liveness does not depend on Triton').toBe(200);

    await handle.restart();
    await handle.waitReady(60_000);
    const back = Date.now();
    // The breaker may have opened while Triton was gone: it probes again after BREAKER_RESET_TIMEOUT_MS.
    let last = '';
    try {
      await eventually(async () => {
        const response = await fetch(`${url()}/ready`);
        last = await response.text();
        return response.status === 200;
      }, 15_000, 50);
    } catch (error) {
      const log = (await containerLog(need(gateway))).split('\n').filter((line) => !line.includes('"msg":"request done"')).slice(-40).join('\n');
      throw new Error(`${String(error)}; last /ready: ${last}\n--- gateway log (tail) ---\n${log}`);
    }
    console.info(`[container test] /ready 503 ${notReadyAfter} ms after Triton was killed; 200 ${Date.now() - back} ms after a new Triton container was ready`);
    expect((await infer(url(), 'digits', [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: IMAGES[0] ?? [], binary: false }], false)).get('label')).toHaveLength(1);
  }, 120_000);

  it(`stopping the gateway container (${'`'}stop${'`'}, SIGTERM) under ${CLIENTS} clients answers every request it accepted and exits 0`, async () => {
    const own = await startGatewayContainer(need(network));
    const ownUrl = `http://${own.getHost()}:${own.getMappedPort(GATEWAY_PORT)}`;
    const load = startDigitsLoad(ownUrl, { clients: CLIENTS, guardMs: SHUTDOWN_GRACE_MS + 10_000, maxPerClient: 10_000 });
    let signalled = Number.POSITIVE_INFINITY;
    let state: { readonly ExitCode: number };
    let logs: string;
    try {
      await eventually(() => load.outcomes.filter((outcome) => outcome.status === 200).length >= CLIENTS, 20_000);
      signalled = performance.now();
      await run(engine.name, ['stop', '--time', String(SHUTDOWN_GRACE_MS / 1000 + 10), own.getId()]);
    } finally {
      await load.stop();
      const client = await getContainerRuntimeClient();
      state = (await client.container.inspect(client.container.getById(own.getId()))).State;
      logs = await containerLog(own);
      await own.stop({ remove: true }).catch(() => undefined);
    }
    const outcomes = load.outcomes;
    const summary = `${tally(outcomes)}\n--- gateway log (tail) ---\n${logs.split('\n').slice(-15).join('\n')}`;
    console.info(`[container test] stop under load: ${tally(outcomes)}`);
    // The gateway counts what it had accepted when SIGTERM arrived (Triton holds each batch 300 ms, so
    // many); the `stop` command reaches it some time after `signalled`, so the clients' clocks cannot tell
    // which requests those were, but each must have been answered 200 after `signalled`.
    const acceptedAtSignal = Number(/"inFlight":(\d+)[^\n]*"msg":"shutting down/.exec(logs)?.[1] ?? Number.NaN);
    expect(acceptedAtSignal, summary).toBeGreaterThanOrEqual(CLIENTS / 2);
    const answeredAfterSignal = outcomes.filter((outcome) => outcome.status === 200 && outcome.code === 'OK' && outcome.ended > signalled);
    expect(answeredAfterSignal.length, summary).toBeGreaterThanOrEqual(acceptedAtSignal);
    // Later: refused honestly while draining (503 SHUTTING_DOWN), or no connection once it has exited.
    const other = outcomes.filter((outcome) => !(outcome.status === 200 && outcome.code === 'OK') && !(outcome.status === 503 && outcome.code === 'SHUTTING_DOWN') && outcome.status !== NO_ANSWER);
    expect(other, summary).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.status === NO_ANSWER && outcome.started < signalled), summary).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.status === HUNG), summary).toEqual([]);
    expect({ exitCode: state.ExitCode, drained: /"drained":true[^\n]*"msg":"gateway stopped"/.test(logs) }, summary).toEqual({ exitCode: 0, drained: true });
  }, 120_000);
});

/** A gateway container on `network`, in front of triton:8001, port 8080 published on a free host port. */
async function startGatewayContainer(network: StartedNetwork): Promise<StartedTestContainer> {
  return new GenericContainer(GATEWAY_IMAGE)
    .withNetwork(network)
    .withEnvironment({
      TRITON_GRPC_URL: `${TRITON_ALIAS}:8001`,
      ...(process.env['GRPC_TRACE'] === undefined ? {} : { GRPC_TRACE: process.env['GRPC_TRACE'], GRPC_VERBOSITY: 'DEBUG' }),
      READINESS_POLL_INTERVAL_MS: String(POLL_MS),
      TRITON_CONTROL_TIMEOUT_MS: String(CONTROL_TIMEOUT_MS),
      BREAKER_RESET_TIMEOUT_MS: '1000',
      SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
      LOG_LEVEL: 'info',
    })
    .withExposedPorts(GATEWAY_PORT)
    .withWaitStrategy(Wait.forHttp('/ready', GATEWAY_PORT).forStatusCode(200))
    .withStartupTimeout(60_000)
    .start();
}

async function infer(url: string, model: string, inputs: Parameters<typeof buildInferRequest>[0]['inputs'], binaryOut: boolean): Promise<Map<string, unknown[]>> {
  const { body, headers } = buildInferRequest({ inputs, outputs: model === 'digits' ? [{ name: 'probabilities', binary: binaryOut }, { name: 'label', binary: binaryOut }] : [{ name: 'label', binary: binaryOut }] });
  const response = await fetch(`${url}/v2/models/${model}/infer`, { method: 'POST', headers, body });
  if (response.status !== 200) throw new Error(`${model}: HTTP ${response.status} ${await response.text()}`);
  const decoded = await readInferResponse(response);
  return new Map(decoded.outputs.map((output) => [output.name, output.data]));
}

async function containerLog(container: StartedTestContainer): Promise<string> {
  const stream = await container.logs();
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (text += chunk));
  await new Promise((resolve) => {
    stream.once('end', resolve);
    setTimeout(resolve, 2000);
  });
  stream.destroy();
  return text;
}

function need<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('not started');
  return value;
}
