// The body of a session worker thread: it owns one ONNX Runtime session (one model version) and does
// everything that costs time in proportion to the tensors: loading the model, building ORT tensors from
// raw bytes (BYTES decoding included), the run itself (onnxruntime-node 1.30 runs synchronously on the
// calling thread), the output size check, classification and the encoding back to raw bytes. The
// gateway's event loop only plans, sends and receives, so liveness and readiness never wait for a run.
// Messages are handled one at a time, in order.
import { parentPort, workerData } from 'node:worker_threads';
import { InferenceSession } from 'onnxruntime-node';
import { GatewayError, isGatewayError } from '../../errors.ts';
import type { RawTensor } from '../backend.ts';
import { classify } from './classification.ts';
import { reportedOutputShape } from './infer-plan.ts';
import { classifyOrtError } from './ort-error.ts';
import { fromOrtValue, toOrtTensor } from './ort-tensors.ts';
import { checkOutputBytes } from './run-limits.ts';
import type { FromWorker, RunJob, SessionWorkerData, ToWorker, WireError } from './session-worker-protocol.ts';

/** ORT's own log: errors are reported through the gateway's logger, so keep its stderr for fatal ones. */
const ORT_LOG_FATAL_ONLY = 4;

const port = parentPort;
if (port === null) throw new Error('session-worker-main.ts runs as a worker thread only');
const { path, settings, labels } = workerData as SessionWorkerData;

const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

let session: InferenceSession | undefined;
try {
  session = await InferenceSession.create(path, {
    intraOpNumThreads: settings.intraOpNumThreads,
    interOpNumThreads: settings.interOpNumThreads,
    executionMode: 'sequential',
    logSeverityLevel: ORT_LOG_FATAL_ONLY,
  });
  post({ kind: 'loaded', inputs: session.inputMetadata, outputs: session.outputMetadata });
} catch (error) {
  post({ kind: 'load-failed', message: error instanceof Error ? error.message : String(error) });
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToWorker) => {
  // handle() answers its own failures; anything that still escapes is answered here, since an unhandled
  // rejection would kill the thread and every run queued behind this one.
  queue = queue.then(() => handle(message)).catch((error: unknown) => {
    if (message.kind === 'run') post({ kind: 'failed', id: message.id, error: toWire(error, message.job) });
    else post({ kind: 'released' });
  });
});

async function handle(message: ToWorker): Promise<void> {
  if (message.kind === 'release') {
    await session?.release();
    session = undefined;
    post({ kind: 'released' });
    return;
  }
  try {
    const outputs = await run(message.job);
    post({ kind: 'result', id: message.id, outputs }, outputs.map((output) => output.data.buffer as ArrayBuffer));
  } catch (error) {
    post({ kind: 'failed', id: message.id, error: toWire(error, message.job) });
  }
}

async function run(job: RunJob): Promise<RawTensor[]> {
  if (session === undefined) throw new Error('the session was released');
  const feeds = Object.fromEntries(job.inputs.map((input) => [input.name, toOrtTensor(input, input.shape)]));
  let results: InferenceSession.ReturnType;
  try {
    results = await session.run(feeds, job.outputs.map((output) => output.name), { logSeverityLevel: ORT_LOG_FATAL_ONLY });
  } catch (error) {
    throw classifyOrtError(error, job.model, job.version);
  }
  const raw = job.outputs.map((output): RawTensor => {
    const value = results[output.name];
    const shape = value === undefined ? undefined : reportedOutputShape(output, job.batchSize, value.dims);
    if (shape === undefined) {
      throw new GatewayError('MODEL_ERROR', `model '${job.model}' version ${job.version} output '${output.name}' does not fit the config dims [${output.dims.join(',')}]`);
    }
    return fromOrtValue(output.name, output.datatype, value, shape);
  });
  checkOutputBytes(job.model, raw, job.maxOutputBytes);
  return raw.map((output) => {
    const count = job.classifications[output.name];
    return owned(count === undefined ? output : classify(output, count, job.batchSize !== undefined, labels[output.name]));
  });
}

/**
 * The tensor over a buffer of exactly its own bytes, so that transferring it moves nothing else: a
 * fixed-size output is a view of ORT's tensor and is copied; BYTES are already freshly encoded.
 */
function owned(tensor: RawTensor): RawTensor {
  if (tensor.datatype === 'BYTES') return tensor;
  return { ...tensor, data: new Uint8Array(tensor.data) };
}

function toWire(error: unknown, job: RunJob): WireError {
  if (isGatewayError(error)) return { code: error.code, message: error.message };
  const reason = error instanceof Error ? error.message : String(error);
  return { code: 'BACKEND_ERROR', message: `model '${job.model}' version ${job.version}: ${reason}` };
}
