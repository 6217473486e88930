// The one error catalogue of the gateway. Every answer that is not a success carries one of these codes,
// so clients, dashboards and the README speak about the same thing. A test checks that every code is
// unique and documented.

export const ERROR_CATALOGUE = {
  INVALID_JSON: { status: 400, summary: 'The body (or its JSON part) is not valid JSON, or nests deeper than allowed.' },
  INVALID_REQUEST: { status: 400, summary: 'The request does not match the Open Inference Protocol schema.' },
  INVALID_INPUT: { status: 400, summary: "An input does not match the model: name, datatype, shape, element count or value range." },
  INVALID_OUTPUT: { status: 400, summary: 'A requested output does not exist on the model, or its classification parameter is not a whole number >= 1 or names a BYTES, BOOL, FP16 or BF16 output.' },
  RESPONSE_TOO_LARGE: { status: 400, summary: 'The answer would be larger than MAX_RESPONSE_BYTES: ask for fewer rows or outputs, or binary outputs.' },
  TOO_LARGE_TENSOR: { status: 400, summary: 'A tensor has more elements than MAX_TENSOR_ELEMENTS; embedded backend: more rows than EMBEDDED_MAX_ROWS, or outputs over EMBEDDED_MAX_OUTPUT_BYTES.' },
  BACKEND_REJECTED: { status: 400, summary: 'Triton rejected the request as invalid (gRPC INVALID_ARGUMENT).' },
  UNAUTHORIZED: { status: 401, summary: 'The admin endpoint needs a valid bearer token.' },
  ADMIN_DISABLED: { status: 403, summary: 'The admin endpoints are off because ADMIN_TOKEN is not set.' },
  MODEL_NOT_FOUND: { status: 404, summary: 'The model or model version is unknown.' },
  ROUTE_NOT_FOUND: { status: 404, summary: 'No such endpoint.' },
  METHOD_NOT_ALLOWED: { status: 405, summary: 'The endpoint exists but not for this HTTP method.' },
  REQUEST_TIMEOUT: { status: 408, summary: 'The body stopped arriving for BODY_IDLE_TIMEOUT_MS; the connection is closed.' },
  QUEUE_FULL: { status: 429, summary: "The model's rows waiting or at the backend reached the queue limit (load shedding); see Retry-After." },
  PAYLOAD_TOO_LARGE: { status: 413, summary: 'The body is larger than BODY_LIMIT_BYTES (inflated, when compressed), inflates more than MAX_INFLATE_RATIO times, or is too costly to parse.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'The Content-Type is neither JSON nor binary (application/octet-stream).' },
  BACKEND_ERROR: { status: 502, summary: 'Triton failed while serving the request (gRPC INTERNAL or an unexpected status).' },
  MODEL_ERROR: { status: 502, summary: "The model failed on this request's data (gRPC INTERNAL or UNKNOWN answered by Triton; embedded: an ONNX Runtime failure or a dead session worker)." },
  BACKEND_UNSUPPORTED: { status: 501, summary: 'Triton does not support the operation (gRPC UNIMPLEMENTED).' },
  BACKEND_UNAVAILABLE: { status: 503, summary: 'Triton cannot be reached or is not ready.' },
  CIRCUIT_OPEN: { status: 503, summary: 'The circuit breaker to Triton is open; nothing was sent.' },
  MODEL_NOT_READY: { status: 503, summary: 'The model exists but has no ready version right now.' },
  GATEWAY_BUSY: { status: 503, summary: 'Request bodies being read and parsed at once fill PARSE_BUDGET_BYTES; the body was not read; see Retry-After.' },
  SHUTTING_DOWN: { status: 503, summary: 'The gateway is draining and takes no new requests.' },
  DEADLINE_EXCEEDED: { status: 504, summary: 'No answer before the request deadline.' },
  REQUEST_CANCELLED: { status: 499, summary: 'The client went away before the answer (logged only; nobody reads it).' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const DEFAULT_RETRY_AFTER_SECONDS = 1;

export interface GatewayErrorOptions {
  /** Seconds a client should wait before retrying (sent as Retry-After on 429 and 503). */
  readonly retryAfterSeconds?: number;
  readonly cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.retryAfterSeconds = options.retryAfterSeconds ?? (this.status === 503 || this.status === 429 ? DEFAULT_RETRY_AFTER_SECONDS : undefined);
  }
}

export function isGatewayError(error: unknown): error is GatewayError {
  return error instanceof GatewayError;
}
