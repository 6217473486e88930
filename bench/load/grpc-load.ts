// A closed-loop gRPC load generator for `npm run bench`: ModelInfer calls straight to Triton's gRPC
// endpoint, bypassing the gateway, to show what the gateway costs on top of Triton itself. It runs in
// the benchmark driver's process, as autocannon does for the HTTP side, so the figures compare like
// with like: `connections` closed loops (a call returns, the next starts) for `durationS` seconds, the
// latency of each call from process.hrtime.bigint(), percentiles from the recorded latencies.
//
// One channel, one HTTP/2 connection, for all the loops, because:
// - the gateway itself talks to Triton over one grpc-js channel (gateway/backends/triton/
//   triton-grpc-client.ts), so this is the path the gateway's calls take, minus the gateway;
// - Triton's own clients multiplex: the C++ client library under perf_analyzer caches channels per URL
//   and shares each among up to 6 clients (TRITON_CLIENT_GRPC_CHANNEL_MAX_SHARE_COUNT, default 6, in
//   src/c++/library/grpc_client.cc; older releases shared one channel per URL outright), so
//   perf_analyzer at concurrency 8 runs over 2 connections, not 8;
// - grpc-js would share the connection anyway: channels to the same target with the same options reuse
//   one subchannel from its global pool. 'grpc.use_local_subchannel_pool' keeps this load's connection
//   its own, apart from any other gRPC client in the driver.
//
// The request is serialized once, before the clock starts, and responses are not decoded (only their
// status counts): per call the driver does no protobuf work, the way perf_analyzer reuses one prepared
// request, so the driver's CPU (which shares the machine with Triton) goes to the calls themselves.
import { Client, Metadata, credentials } from '@grpc/grpc-js';
import type { ChannelOptions, ServiceError } from '@grpc/grpc-js';
import { grpcStatusName } from '../../gateway/backends/triton/grpc-status-map.ts';
import { loadInferenceProtocol, serviceMethods } from '../../gateway/backends/triton/inference-protocol.ts';
import type { ModelInferRequestMessage } from '../../gateway/backends/triton/inference-protocol.ts';
import { summarise } from './load-result.ts';
import type { LoadResult } from './load-result.ts';

export interface GrpcLoadOptions {
  /** host:port of Triton's gRPC endpoint. */
  readonly address: string;
  /** Calls kept outstanding, each a closed loop. */
  readonly connections: number;
  readonly durationS: number;
  /** The model called: replaces the request's model_name. */
  readonly model: string;
  /** The ModelInferRequest sent on every call, e.g. digitsInferRequest(pixels). */
  readonly request: ModelInferRequestMessage;
}

/** What every load generator reports (completed, failed, requests/s, p50/p99 of the OK calls), and why calls failed. */
export interface GrpcLoadResult extends LoadResult {
  /** Status and details of the first failed call, to say why `failed` is not 0. */
  readonly firstError: string | undefined;
}

export const DIGITS_PIXELS = 64;
const FP32_BYTES = 4;
/** Each call's deadline: a call stuck this long counts as an error instead of stalling its loop. */
const CALL_DEADLINE_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
const NS_PER_MS = 1_000_000;
const NS_PER_S = 1_000_000_000;
const UNLIMITED = -1;

const CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': UNLIMITED,
  'grpc.max_send_message_length': UNLIMITED,
  'grpc.enable_retries': 0,
};

/** The digits ModelInferRequest of one row: `pixels` as raw little-endian FP32, as Triton's clients send it. */
export function digitsInferRequest(pixels: Float32Array, model = 'digits'): ModelInferRequestMessage {
  if (pixels.length !== DIGITS_PIXELS) throw new RangeError(`digits takes ${DIGITS_PIXELS} pixels per row, got ${pixels.length}`);
  const raw = Buffer.alloc(DIGITS_PIXELS * FP32_BYTES);
  pixels.forEach((value, index) => raw.writeFloatLE(value, index * FP32_BYTES));
  return {
    model_name: model,
    model_version: '',
    id: '',
    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, DIGITS_PIXELS] }],
    // None requested: Triton returns every output (probabilities and label), as for the gateway's calls.
    outputs: [],
    raw_input_contents: [raw],
  };
}

export async function grpcLoad(options: GrpcLoadOptions): Promise<GrpcLoadResult> {
  if (!Number.isInteger(options.connections) || options.connections < 1) throw new RangeError(`connections must be a positive integer, got ${options.connections}`);
  if (!(options.durationS > 0)) throw new RangeError(`durationS must be positive, got ${options.durationS}`);
  const method = serviceMethods(loadInferenceProtocol()).ModelInfer;
  const body = method.requestSerialize({ ...options.request, model_name: options.model });
  const client = new Client(options.address, credentials.createInsecure(), CHANNEL_OPTIONS);
  try {
    // Connect before the clock starts, so the first calls do not carry the TCP and HTTP/2 set-up.
    await new Promise<void>((resolve, reject) =>
      client.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (error) => (error ? reject(new Error(`gRPC channel to ${options.address} not ready: ${error.message}`)) : resolve())),
    );

    const latenciesMs: number[] = [];
    let failed = 0;
    let firstError: string | undefined;
    const started = process.hrtime.bigint();
    const stopStartingAt = started + BigInt(Math.round(options.durationS * NS_PER_S));

    const loop = (): Promise<void> =>
      new Promise((resolve) => {
        const next = (): void => {
          const callStarted = process.hrtime.bigint();
          if (callStarted >= stopStartingAt) {
            resolve();
            return;
          }
          client.makeUnaryRequest<Buffer, Buffer>(
            method.path,
            passThrough,
            passThrough,
            body,
            new Metadata(),
            { deadline: Date.now() + CALL_DEADLINE_MS },
            (error: ServiceError | null) => {
              if (error === null) {
                latenciesMs.push(Number(process.hrtime.bigint() - callStarted) / NS_PER_MS);
              } else {
                failed++;
                firstError ??= `${grpcStatusName(error.code)}: ${error.details}`;
              }
              next();
            },
          );
        };
        next();
      });

    await Promise.all(Array.from({ length: options.connections }, loop));
    // Per second of the run as it went: from the first call to the last one back (the calls in flight at
    // the deadline are waited for and counted).
    const elapsedS = Number(process.hrtime.bigint() - started) / NS_PER_S;
    return { ...summarise(latenciesMs, failed, elapsedS), firstError };
  } finally {
    client.close();
  }
}

/** The body is already serialized, and the response only needs its status: bytes in, bytes out. */
function passThrough(bytes: Buffer): Buffer {
  return bytes;
}
