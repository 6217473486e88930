// The one table from a gRPC status of Triton to the gateway's error codes, and which statuses mean the
// link (not the request) is sick. Both the breaker and the HTTP answer read from here.
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ErrorCode } from '../../errors.ts';

interface StatusMapping {
  readonly code: ErrorCode;
  /** True when the status says Triton or the connection is unhealthy; only these feed the breaker. */
  readonly linkFailure: boolean;
}

const GRPC_TO_GATEWAY: ReadonlyMap<number, StatusMapping> = new Map([
  [GrpcStatus.INVALID_ARGUMENT, { code: 'BACKEND_REJECTED', linkFailure: false }],
  [GrpcStatus.OUT_OF_RANGE, { code: 'BACKEND_REJECTED', linkFailure: false }],
  [GrpcStatus.FAILED_PRECONDITION, { code: 'BACKEND_REJECTED', linkFailure: false }],
  [GrpcStatus.ALREADY_EXISTS, { code: 'BACKEND_REJECTED', linkFailure: false }],
  [GrpcStatus.NOT_FOUND, { code: 'MODEL_NOT_FOUND', linkFailure: false }],
  [GrpcStatus.UNIMPLEMENTED, { code: 'BACKEND_UNSUPPORTED', linkFailure: false }],
  [GrpcStatus.UNAVAILABLE, { code: 'BACKEND_UNAVAILABLE', linkFailure: true }],
  [GrpcStatus.RESOURCE_EXHAUSTED, { code: 'BACKEND_UNAVAILABLE', linkFailure: false }],
  [GrpcStatus.DEADLINE_EXCEEDED, { code: 'DEADLINE_EXCEEDED', linkFailure: true }],
  [GrpcStatus.CANCELLED, { code: 'REQUEST_CANCELLED', linkFailure: false }],
  [GrpcStatus.INTERNAL, { code: 'BACKEND_ERROR', linkFailure: true }],
  [GrpcStatus.UNKNOWN, { code: 'BACKEND_ERROR', linkFailure: true }],
  [GrpcStatus.DATA_LOSS, { code: 'BACKEND_ERROR', linkFailure: true }],
]);

const UNEXPECTED_STATUS: StatusMapping = { code: 'BACKEND_ERROR', linkFailure: false };

const MODEL_NOT_READY: StatusMapping = { code: 'MODEL_NOT_READY', linkFailure: false };

// Triton answers UNAVAILABLE both when it cannot serve at all and when one model version is not ready
// (loading, unloading, failed). The second is Triton speaking, so the link is fine and the breaker must
// not open for every model. Matched on Triton's own phrasings (not on the word "model", which also
// appears in host names inside grpc-js connection errors).
const MODEL_LEVEL_UNAVAILABLE = /request for unknown model|is not at ready state|has no available versions|model is not ready|unable to find model/i;

/** A deadline the client chose itself says nothing about Triton's health. */
const CLIENT_DEADLINE: StatusMapping = { code: 'DEADLINE_EXCEEDED', linkFailure: false };

export interface CallFacts {
  /** The call's deadline was shortened by the client (request timeout parameter or header). */
  readonly clientDeadline?: boolean;
}

// Triton's onnxruntime backend reports every ONNX Runtime error as INTERNAL; ORT's own code 2 is
// INVALID_ARGUMENT: the request's data, not Triton's health (e.g. zero rows into a StringNormalizer).
const ORT_INVALID_ARGUMENT = /\[ONNXRuntimeError\] : 2 : INVALID_ARGUMENT|onnx runtime error 2:/i;
const REJECTED: StatusMapping = { code: 'BACKEND_REJECTED', linkFailure: false };

// Triton 2.51 answers NOT_FOUND "... has no available versions" for a model it knows but that has no
// loaded version right now (unloading, unloaded, failed): temporary, so 503, not a 404.
const KNOWN_MODEL_WITHOUT_VERSIONS = /has no available versions/i;

export function mapGrpcStatus(grpcStatus: number, details = '', facts: CallFacts = {}): StatusMapping {
  if (grpcStatus === GrpcStatus.UNAVAILABLE && MODEL_LEVEL_UNAVAILABLE.test(details)) return MODEL_NOT_READY;
  if (grpcStatus === GrpcStatus.NOT_FOUND && KNOWN_MODEL_WITHOUT_VERSIONS.test(details)) return MODEL_NOT_READY;
  if (grpcStatus === GrpcStatus.INTERNAL && ORT_INVALID_ARGUMENT.test(details)) return REJECTED;
  if (grpcStatus === GrpcStatus.DEADLINE_EXCEEDED && facts.clientDeadline === true) return CLIENT_DEADLINE;
  return GRPC_TO_GATEWAY.get(grpcStatus) ?? UNEXPECTED_STATUS;
}

export function grpcStatusName(grpcStatus: number): string {
  return GrpcStatus[grpcStatus] ?? `STATUS_${grpcStatus}`;
}
