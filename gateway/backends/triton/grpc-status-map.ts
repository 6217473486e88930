// The one table from a gRPC status of Triton to the gateway's error codes, and which statuses mean the
// link (not the request) is sick. Both the breaker and the HTTP answer read from here.
//
// The breaker measures the link: only what says the connection to Triton is broken counts (no
// connection, UNAVAILABLE not naming a model, grpc-js's own transport failures, deadlines that neither
// the client, nor the gateway's stalled event loop, nor one slow model explain). What Triton answered
// about one request or one model (INTERNAL from the model, NOT_FOUND, not ready...) never counts.
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ErrorCode } from '../../errors.ts';

export interface StatusMapping {
  readonly code: ErrorCode;
  /** True when the status says the connection to Triton is unhealthy; only these feed the breaker. */
  readonly linkFailure: boolean;
  /**
   * True when the details are grpc-js's own words about the connection (they name Triton's address and
   * socket errors): the client gets a plain description, the log gets the details.
   */
  readonly transport: boolean;
}

const mapping = (code: ErrorCode, linkFailure: boolean, transport = false): StatusMapping => ({ code, linkFailure, transport });

const GRPC_TO_GATEWAY: ReadonlyMap<number, StatusMapping> = new Map([
  [GrpcStatus.INVALID_ARGUMENT, mapping('BACKEND_REJECTED', false)],
  [GrpcStatus.OUT_OF_RANGE, mapping('BACKEND_REJECTED', false)],
  [GrpcStatus.FAILED_PRECONDITION, mapping('BACKEND_REJECTED', false)],
  [GrpcStatus.ALREADY_EXISTS, mapping('BACKEND_REJECTED', false)],
  [GrpcStatus.NOT_FOUND, mapping('MODEL_NOT_FOUND', false)],
  [GrpcStatus.UNIMPLEMENTED, mapping('BACKEND_UNSUPPORTED', false)],
  [GrpcStatus.UNAVAILABLE, mapping('BACKEND_UNAVAILABLE', true, true)],
  [GrpcStatus.RESOURCE_EXHAUSTED, mapping('BACKEND_UNAVAILABLE', false)],
  [GrpcStatus.DEADLINE_EXCEEDED, mapping('DEADLINE_EXCEEDED', true, true)],
  [GrpcStatus.CANCELLED, mapping('REQUEST_CANCELLED', false, true)],
  // Answered by Triton: its model (or backend) failed on this request. The link worked.
  [GrpcStatus.INTERNAL, mapping('MODEL_ERROR', false)],
  [GrpcStatus.UNKNOWN, mapping('MODEL_ERROR', false)],
  [GrpcStatus.DATA_LOSS, mapping('BACKEND_ERROR', false)],
]);

const UNEXPECTED_STATUS = mapping('BACKEND_ERROR', false);

const MODEL_NOT_READY = mapping('MODEL_NOT_READY', false);

// Triton answers UNAVAILABLE both when it cannot serve at all and when one model version is not ready
// (loading, unloading, failed). The second is Triton speaking, so the link is fine and the breaker must
// not open for every model. Matched on Triton's own phrasings (not on the word "model", which also
// appears in host names inside grpc-js connection errors).
const MODEL_LEVEL_UNAVAILABLE = /request for unknown model|is not at ready state|has no available versions|model is not ready|unable to find model/i;
// Triton's dynamic batcher refusing a request of one busy model (queue policy): that model's load.
const MODEL_QUEUE_FULL = /exceeds maximum queue size|request timeout expired/i;
const MODEL_OVERLOADED = mapping('BACKEND_UNAVAILABLE', false);
// Triton 2.51 refuses load/unload with UNAVAILABLE "explicit model load / unload is not allowed if polling
// is enabled" when it is not in explicit mode: permanent for this deployment, so not a retry-later 503.
const MODEL_CONTROL_OFF = /explicit model load \/ unload is not allowed/i;
const CONTROL_REFUSED = mapping('BACKEND_UNSUPPORTED', false);

// grpc-js's own phrasings when the HTTP/2 stream or the connection broke and it reports INTERNAL
// (@grpc/grpc-js 1.14 build/src/subchannel-call.js, client-interceptors.js, load-balancing-call.js):
// Triton never answered, so these are the link's.
// grpc-js reports the same (an HTTP status other than a few it maps, a stream ended without a status) as
// UNKNOWN too, e.g. a proxy answering 500: also the link's.
const GRPC_JS_TRANSPORT = /^(Received RST_STREAM with code|Received HTTP status code|Response message parsing error|Failed to start HTTP\/2 stream|Write error:|No status information received)/;
const TRANSPORT_BROKE = mapping('BACKEND_ERROR', true, true);
// grpc-js could not serialize the gateway's own request: the gateway's bug, neither the model's (so no
// halving of the batch) nor the link's.
const GRPC_JS_SERIALIZATION = /^Request message serialization failure/;
const GATEWAY_FAULT = mapping('BACKEND_ERROR', false);

export interface CallFacts {
  /** The call's deadline was shortened by the client (request timeout parameter or header). */
  readonly clientDeadline?: boolean;
  /** The gateway's event loop stalled for a significant share of the call's budget. */
  readonly loopStalled?: boolean;
  /** An inference (of any model) was answered on the same link while this one waited: the link worked. */
  readonly linkAnsweredMeanwhile?: boolean;
}

/** A deadline the client chose, the gateway's own stall or one slow model say nothing about the link. */
const NOT_THE_LINKS_DEADLINE = mapping('DEADLINE_EXCEEDED', false, true);

// Triton's onnxruntime backend reports every ONNX Runtime error as INTERNAL; ORT's own code 2 is
// INVALID_ARGUMENT: the request's data, not Triton's health (e.g. zero rows into a StringNormalizer).
const ORT_INVALID_ARGUMENT = /\[ONNXRuntimeError\] : 2 : INVALID_ARGUMENT|onnx runtime error 2:/i;
const REJECTED = mapping('BACKEND_REJECTED', false);

// Triton 2.51 answers NOT_FOUND "... has no available versions" for a model it knows but that has no
// loaded version right now (unloading, unloaded, failed): temporary, so 503, not a 404.
const KNOWN_MODEL_WITHOUT_VERSIONS = /has no available versions/i;

export function mapGrpcStatus(grpcStatus: number, details = '', facts: CallFacts = {}): StatusMapping {
  switch (grpcStatus) {
    case GrpcStatus.UNAVAILABLE:
      if (MODEL_LEVEL_UNAVAILABLE.test(details)) return MODEL_NOT_READY;
      if (MODEL_QUEUE_FULL.test(details)) return MODEL_OVERLOADED;
      if (MODEL_CONTROL_OFF.test(details)) return CONTROL_REFUSED;
      break;
    case GrpcStatus.NOT_FOUND:
      if (KNOWN_MODEL_WITHOUT_VERSIONS.test(details)) return MODEL_NOT_READY;
      break;
    case GrpcStatus.INTERNAL:
      if (GRPC_JS_TRANSPORT.test(details)) return TRANSPORT_BROKE;
      if (GRPC_JS_SERIALIZATION.test(details)) return GATEWAY_FAULT;
      if (ORT_INVALID_ARGUMENT.test(details)) return REJECTED;
      break;
    case GrpcStatus.UNKNOWN:
      if (GRPC_JS_TRANSPORT.test(details)) return TRANSPORT_BROKE;
      break;
    case GrpcStatus.DEADLINE_EXCEEDED:
      if (facts.clientDeadline === true || facts.loopStalled === true || facts.linkAnsweredMeanwhile === true) return NOT_THE_LINKS_DEADLINE;
      break;
    default:
      break;
  }
  return GRPC_TO_GATEWAY.get(grpcStatus) ?? UNEXPECTED_STATUS;
}

export function grpcStatusName(grpcStatus: number): string {
  return GrpcStatus[grpcStatus] ?? `STATUS_${grpcStatus}`;
}
