// The one error catalogue of the gateway. Every answer that is not a success carries one of these codes,
// so clients, dashboards and the README speak about the same thing: the README's table and the OpenAPI
// document are rendered from it (errorTable; `npm run docs:errors` rewrites the README's, and
// test/unit/errors.test.ts fails when it is stale). A message that never varies is written here too, and
// a message built in more than one place has one builder below.

interface CatalogueEntry {
  readonly status: number;
  /** What the code means, for the README and the OpenAPI document (markdown, one line). */
  readonly summary: string;
  /** The message, where it never varies. */
  readonly message?: string;
}

export const ERROR_CATALOGUE = {
  INVALID_JSON: { status: 400, summary: 'The body (or its JSON part) is not valid JSON, or nests deeper than `MAX_JSON_DEPTH`.' },
  INVALID_REQUEST: { status: 400, summary: "The request does not match the Open Inference Protocol schema (or the path's version is not a number)." },
  INVALID_INPUT: { status: 400, summary: 'An input does not match the model: name, datatype, shape, batch size, element count or value range.' },
  INVALID_OUTPUT: {
    status: 400,
    summary: 'A requested output does not exist on the model or is requested twice, or its `classification` parameter is not a whole number >= 1 or names a BYTES, BOOL, FP16 or BF16 output.',
  },
  TOO_LARGE_TENSOR: {
    status: 400,
    summary: 'A tensor has more elements than `MAX_TENSOR_ELEMENTS`; embedded backend: more rows than `EMBEDDED_MAX_ROWS`, or outputs over `EMBEDDED_MAX_OUTPUT_BYTES`.',
  },
  RESPONSE_TOO_LARGE: { status: 400, summary: 'The answer would be larger than `MAX_RESPONSE_BYTES`: ask for fewer rows or outputs, or binary outputs.' },
  BACKEND_REJECTED: {
    status: 400,
    summary: "The backend rejected the request as invalid (Triton: gRPC INVALID_ARGUMENT and similar; embedded: ONNX Runtime's refusal of the inputs).",
  },
  UNAUTHORIZED: {
    status: 401,
    summary: 'Model control needs `Authorization: Bearer <ADMIN_TOKEN>`.',
    message: 'header Authorization: a valid "Bearer <ADMIN_TOKEN>" is required',
  },
  ADMIN_DISABLED: {
    status: 403,
    summary: 'Model control is off because `ADMIN_TOKEN` is not set.',
    message: 'model control is off: set ADMIN_TOKEN on the gateway to enable it',
  },
  MODEL_NOT_FOUND: { status: 404, summary: 'Unknown model or model version (gRPC NOT_FOUND).' },
  ROUTE_NOT_FOUND: { status: 404, summary: 'No such endpoint.' },
  METHOD_NOT_ALLOWED: { status: 405, summary: 'The endpoint exists, not for this method (`Allow` says which).' },
  REQUEST_TIMEOUT: {
    status: 408,
    summary: 'No body bytes arrived for `BODY_IDLE_TIMEOUT_MS`, or the body was not all in after `BODY_TIMEOUT_MS`; the connection is closed.',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    summary: 'The body is larger than `BODY_LIMIT_BYTES` (inflated, when compressed), inflates more than `MAX_INFLATE_RATIO` times, or would need more memory to parse than a parse thread has.',
  },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'The Content-Type is neither JSON nor binary.' },
  QUEUE_FULL: {
    status: 429,
    summary: "The model's rows waiting or at the backend reach `QUEUE_LIMIT_ROWS` (load shedding); `Retry-After` is the queue length divided by the measured drain rate (1 to 30 s).",
  },
  REQUEST_CANCELLED: { status: 499, summary: 'The client went away first; only seen in logs and metrics.' },
  INTERNAL: {
    status: 500,
    summary: "A bug of the gateway's own (never for something the client sent); the log has the detail under the request id.",
    message: 'internal error in the gateway; see its log for the request id',
  },
  BACKEND_UNSUPPORTED: { status: 501, summary: 'Triton does not implement the operation (gRPC UNIMPLEMENTED).' },
  MODEL_ERROR: {
    status: 502,
    summary: "The model failed on this request's data (gRPC INTERNAL or UNKNOWN answered by Triton; embedded: an ONNX Runtime failure or its session worker died); never counts against the breaker.",
  },
  BACKEND_ERROR: {
    status: 502,
    summary:
      'The call to the backend broke (Triton: a transport failure grpc-js reports as INTERNAL or UNKNOWN, such as RST_STREAM or an HTTP 500 from a proxy, or DATA_LOSS or an unexpected status; embedded: a model that cannot be loaded on demand, or an output that does not match its config).',
  },
  BACKEND_UNAVAILABLE: { status: 503, summary: 'The backend cannot be reached or is not ready (Triton: gRPC UNAVAILABLE; embedded: still loading, or closed).' },
  CIRCUIT_OPEN: { status: 503, summary: 'The breaker to Triton is open; nothing was sent.' },
  MODEL_NOT_READY: { status: 503, summary: "The model exists but has no ready version (Triton's model-level UNAVAILABLE)." },
  GATEWAY_BUSY: {
    status: 503,
    summary: 'Request bodies being read and parsed at once fill `PARSE_BUDGET_BYTES`; answered with `Retry-After`; the rest of the body is read and dropped (a keep-alive connection stays open).',
  },
  SHUTTING_DOWN: { status: 503, summary: 'The gateway is draining, or the grace period ended before the backend answered.' },
  DEADLINE_EXCEEDED: { status: 504, summary: 'No answer before the request deadline (`REQUEST_TIMEOUT_MS`).' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The codes whose message never varies. */
export type FixedMessageCode = { [Code in ErrorCode]: (typeof ERROR_CATALOGUE)[Code] extends { readonly message: string } ? Code : never }[ErrorCode];

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

/** The error of a code whose message never varies, with that message. */
export function fixedError(code: FixedMessageCode, options?: GatewayErrorOptions): GatewayError {
  return new GatewayError(code, ERROR_CATALOGUE[code].message, options);
}

// Messages built in more than one place.

/** A model, or a version of it (`version` '' for none), that the backend does not know. */
export function unknownModel(model: string, version: string, cause?: unknown): GatewayError {
  const what = version === '' ? `model "${model}"` : `version "${version}" of model "${model}"`;
  return new GatewayError('MODEL_NOT_FOUND', `unknown ${what}`, { cause });
}

/** A request that no route serves; `see` names where the routes are listed. */
export function noRoute(method: string, path: string, see: string): GatewayError {
  return new GatewayError('ROUTE_NOT_FOUND', `no endpoint ${method} ${path}; see ${see}`);
}

/** `excess` says how the body passed the limit, e.g. 'longer than', 'inflates beyond'. */
export function bodyOverLimit(excess: string, limitBytes: number | string): GatewayError {
  return new GatewayError('PAYLOAD_TOO_LARGE', `body: ${excess} the limit of ${limitBytes} bytes (BODY_LIMIT_BYTES)`);
}

export function bodyAborted(): GatewayError {
  return new GatewayError('REQUEST_CANCELLED', 'client aborted the request body');
}

/** `when`: where the request was when its client left, e.g. 'while queued'. */
export function clientLeft(when: string): GatewayError {
  return new GatewayError('REQUEST_CANCELLED', `client left ${when}`);
}

/** `when`: where the request was when its deadline passed, e.g. 'while the request waited for a batch'. */
export function deadlinePassed(when: string): GatewayError {
  return new GatewayError('DEADLINE_EXCEEDED', `deadline passed ${when}`);
}

/** A request refused because draining has begun. */
export function shuttingDown(): GatewayError {
  return new GatewayError('SHUTTING_DOWN', 'the gateway is shutting down; retry on another replica');
}

/** A request the grace period did not wait for: its answer, or its body, was not ready when it ended. */
export function shutDownBeforeAnswer(cause?: unknown): GatewayError {
  return new GatewayError('SHUTTING_DOWN', 'the gateway shut down before answering (grace period over); retry', { cause });
}

/** A batch of more rows than its queue sends at once (MAX_BATCH_ROWS, or the model's max_batch_size). */
export function batchOverLimit(rows: number, limit: number): GatewayError {
  return new GatewayError('INVALID_INPUT', `inputs: batch of ${rows} rows exceeds the batch limit of ${limit} rows (MAX_BATCH_ROWS / max_batch_size)`);
}

/**
 * The catalogue as a markdown table (code, status, meaning), by status: the README's error table and
 * the OpenAPI document's.
 */
export function errorTable(): string {
  const rows = Object.entries(ERROR_CATALOGUE)
    .sort(([, a], [, b]) => a.status - b.status)
    .map(([code, { status, summary }]) => `| \`${code}\` | ${status} | ${summary.replaceAll('|', '\\|')} |`);
  return ['| code | status | meaning |', '|---|---|---|', ...rows].join('\n');
}
