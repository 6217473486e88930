// An error answered by Triton (or by the gRPC channel to it), already mapped to the gateway's catalogue
// while keeping what the breaker needs to know.
import { GatewayError } from '../../errors.ts';
import { grpcStatusName, mapGrpcStatus } from './grpc-status-map.ts';
import type { CallFacts } from './grpc-status-map.ts';

export class TritonRpcError extends GatewayError {
  readonly grpcStatus: number;
  readonly linkFailure: boolean;

  constructor(grpcStatus: number, details: string, rpc: string, facts: CallFacts = {}) {
    const mapping = mapGrpcStatus(grpcStatus, details, facts);
    super(mapping.code, `triton ${rpc}: ${details || grpcStatusName(grpcStatus)}`);
    this.name = 'TritonRpcError';
    this.grpcStatus = grpcStatus;
    this.linkFailure = mapping.linkFailure;
  }
}

export function isLinkFailure(error: unknown): boolean {
  return error instanceof TritonRpcError && error.linkFailure;
}

export function isCancellation(error: unknown): boolean {
  return error instanceof TritonRpcError && error.code === 'REQUEST_CANCELLED';
}
