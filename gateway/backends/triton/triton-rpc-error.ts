// An error answered by Triton (or by the gRPC channel to it), already mapped to the gateway's catalogue
// while keeping what the breaker needs to know. Its message is what a client reads: Triton's own words
// about the request or model, but never grpc-js's words about the connection (they carry Triton's
// address and socket errors); those stay in `details`, for the log.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { GatewayError } from '../../errors.ts';
import { clientDetails } from '../client-details.ts';
import { grpcStatusName, mapGrpcStatus } from './grpc-status-map.ts';
import type { CallFacts } from './grpc-status-map.ts';

/** What a client reads instead of grpc-js's transport details. */
const TRANSPORT_SUMMARY: ReadonlyMap<number, string> = new Map([
  [GrpcStatus.UNAVAILABLE, 'Triton cannot be reached'],
  [GrpcStatus.DEADLINE_EXCEEDED, 'no answer from Triton before the deadline'],
  [GrpcStatus.CANCELLED, 'call cancelled'],
  [GrpcStatus.INTERNAL, 'the connection to Triton broke during the call'],
]);


export class TritonRpcError extends GatewayError {
  readonly grpcStatus: number;
  readonly linkFailure: boolean;
  /** grpc-js's status details as received: for logs only. */
  readonly details: string;
  /** The details are grpc-js's words about the connection, not Triton's about the request. */
  readonly transport: boolean;

  constructor(grpcStatus: number, details: string, rpc: string, facts: CallFacts = {}) {
    const mapping = mapGrpcStatus(grpcStatus, details, facts);
    const said = mapping.transport ? (TRANSPORT_SUMMARY.get(grpcStatus) ?? 'call failed') : clientDetails(details) || 'no details';
    super(mapping.code, `triton ${rpc}: ${said} (${grpcStatusName(grpcStatus)})`);
    this.name = 'TritonRpcError';
    this.grpcStatus = grpcStatus;
    this.linkFailure = mapping.linkFailure;
    this.details = details;
    this.transport = mapping.transport;
  }
}

export function isLinkFailure(error: unknown): boolean {
  return error instanceof TritonRpcError && error.linkFailure;
}

/**
 * A call that ended without Triton answering, for a reason that is not the link's (cancelled, or a
 * deadline the client, a stalled event loop or another model explains): it proves nothing either way.
 */
export function provesNothing(error: unknown): boolean {
  return error instanceof TritonRpcError && (error.code === 'REQUEST_CANCELLED' || error.code === 'DEADLINE_EXCEEDED');
}
