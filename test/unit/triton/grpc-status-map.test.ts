// The one table from Triton's gRPC statuses to the gateway's codes, and which of them count against the
// link: what Triton answered about one request or model never does; grpc-js's own words about a broken
// connection (its phrasings in @grpc/grpc-js build/src/subchannel-call.js and friends) do.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { mapGrpcStatus } from '../../../gateway/backends/triton/grpc-status-map.ts';

describe('gRPC status map', () => {
  it.each([
    ['INTERNAL from the model (python backend)', GrpcStatus.INTERNAL, "Failed to process the request(s) for model 'digits_0_0', message: ValueError: bad", 'MODEL_ERROR', false],
    ['UNKNOWN answered by Triton', GrpcStatus.UNKNOWN, 'unexpected error in model', 'MODEL_ERROR', false],
    ['DATA_LOSS answered by Triton', GrpcStatus.DATA_LOSS, 'data loss', 'BACKEND_ERROR', false],
    ['ORT INVALID_ARGUMENT inside INTERNAL', GrpcStatus.INTERNAL, 'onnx runtime error 2: Invalid rank', 'BACKEND_REJECTED', false],
    ['RST_STREAM (grpc-js)', GrpcStatus.INTERNAL, 'Received RST_STREAM with code 2 triggered by internal client error: Protocol error', 'BACKEND_ERROR', true],
    ['RST_STREAM without status (grpc-js)', GrpcStatus.INTERNAL, 'Received RST_STREAM with code 0 (Call ended without gRPC status)', 'BACKEND_ERROR', true],
    ['HTTP status instead of gRPC (grpc-js)', GrpcStatus.INTERNAL, 'Received HTTP status code 400', 'BACKEND_ERROR', true],
    ['HTTP 500 from a proxy, as UNKNOWN (grpc-js)', GrpcStatus.UNKNOWN, 'Received HTTP status code 500', 'BACKEND_ERROR', true],
    ['stream ended without a status, as UNKNOWN (grpc-js)', GrpcStatus.UNKNOWN, 'No status information received', 'BACKEND_ERROR', true],
    ["the gateway's own serialization bug: not the model's, not halved", GrpcStatus.INTERNAL, 'Request message serialization failure: bad field', 'BACKEND_ERROR', false],
    ['unparsable response (grpc-js)', GrpcStatus.INTERNAL, 'Response message parsing error: index out of range', 'BACKEND_ERROR', true],
    ['no connection (grpc-js)', GrpcStatus.UNAVAILABLE, 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:8001. Resolution note: ', 'BACKEND_UNAVAILABLE', true],
    ['model version not ready', GrpcStatus.UNAVAILABLE, "Request for unknown model: 'digits' version 2 is not at ready state", 'MODEL_NOT_READY', false],
    ["a model's queue full", GrpcStatus.UNAVAILABLE, 'Exceeds maximum queue size', 'BACKEND_UNAVAILABLE', false],
    ['model control off (poll mode)', GrpcStatus.UNAVAILABLE, 'explicit model load / unload is not allowed if polling is enabled', 'BACKEND_UNSUPPORTED', false],
    ['deadline, nothing else known', GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded after 0.301s,LB pick: 0.001s,remote_addr=127.0.0.1:8001', 'DEADLINE_EXCEEDED', true],
  ] as const)('%s', (_what, grpcStatus, details, code, linkFailure) => {
    expect(mapGrpcStatus(grpcStatus, details)).toMatchObject({ code, linkFailure });
  });

  it.each([
    ['the client chose the deadline', { clientDeadline: true }],
    ["the gateway's event loop stalled", { loopStalled: true }],
    ['Triton answered another call meanwhile', { linkAnsweredMeanwhile: true }],
  ] as const)('a missed deadline is not the link\'s when %s', (_what, facts) => {
    expect(mapGrpcStatus(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded', facts)).toMatchObject({ code: 'DEADLINE_EXCEEDED', linkFailure: false });
  });
});
