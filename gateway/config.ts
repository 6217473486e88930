// Environment -> typed, validated, frozen configuration. Parsed once at start-up; a bad value is a
// clear message and exit code 1 (see main.ts), never a surprise later.
import { z } from 'zod';

const MS_PER_SECOND = 1000;

/**
 * After SHUTDOWN_GRACE_MS, how long cancelled requests get to write their 503 before sockets close: a
 * stop can take SHUTDOWN_GRACE_MS + this, which k8s/ and compose.yaml give the process (tests check).
 */
export const FINAL_ANSWER_WAIT_MS = 1000;

function integer(min: number, max: number, fallback: number) {
  return z.coerce.number().int().min(min).max(max).default(fallback);
}

const hostPort = z
  .string()
  .trim()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. triton:8001 or 127.0.0.1:8001');

const modelList = z
  .string()
  .trim()
  .transform((value) => value.split(',').map((name) => name.trim()).filter((name) => name.length > 0))
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'model names are letters, digits, _ . -')));

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const configSchema = z.object({
  PORT: integer(0, 65_535, 8080),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  /** Unset = serve MODEL_REPOSITORY in-process with ONNX Runtime (the embedded backend). */
  TRITON_GRPC_URL: hostPort.optional(),
  MODEL_REPOSITORY: z.string().trim().min(1).default('./model_repository'),
  REQUEST_TIMEOUT_MS: integer(1, 10 * 60 * MS_PER_SECOND, 30 * MS_PER_SECOND),
  TRITON_CONTROL_TIMEOUT_MS: integer(1, 5 * 60 * MS_PER_SECOND, 2 * MS_PER_SECOND),
  BODY_LIMIT_BYTES: integer(1024, 1024 * 1024 * 1024, 32 * 1024 * 1024),
  MAX_TENSOR_ELEMENTS: integer(1, 1 << 30, 1 << 22),
  MAX_JSON_DEPTH: integer(2, 1000, 32),
  /** Request bytes being read and parsed at once, all requests together (503 GATEWAY_BUSY beyond). */
  PARSE_BUDGET_BYTES: integer(1024, 1024 * 1024 * 1024, 64 * 1024 * 1024),
  /** Most times a compressed body may inflate its compressed size (413 beyond). */
  MAX_INFLATE_RATIO: integer(1, 100_000, 200),
  /** Bodies larger than this are parsed in worker threads, PARSE_WORKERS at a time; smaller ones inline. */
  PARSE_OFFLOAD_BYTES: integer(0, 1024 * 1024 * 1024, 128 * 1024),
  PARSE_WORKERS: integer(1, 64, 1),
  BREAKER_ERROR_THRESHOLD_PERCENT: integer(1, 100, 50),
  BREAKER_VOLUME_THRESHOLD: integer(1, 100_000, 5),
  BREAKER_ROLLING_WINDOW_MS: integer(100, 10 * 60 * MS_PER_SECOND, 10 * MS_PER_SECOND),
  BREAKER_RESET_TIMEOUT_MS: integer(10, 10 * 60 * MS_PER_SECOND, 5 * MS_PER_SECOND),
  READINESS_POLL_INTERVAL_MS: integer(50, 10 * 60 * MS_PER_SECOND, 2 * MS_PER_SECOND),
  MODEL_POLL_INTERVAL_MS: integer(0, 60 * 60 * MS_PER_SECOND, 2 * MS_PER_SECOND),
  ORT_INTRA_OP_THREADS: integer(1, 256, 1),
  EMBEDDED_MAX_ROWS: integer(1, 1 << 30, 8192),
  EMBEDDED_MAX_OUTPUT_BYTES: integer(1024, 1024 * 1024 * 1024, 16 * 1024 * 1024),
  GRPC_KEEPALIVE_MS: integer(1000, 60 * 60 * MS_PER_SECOND, 30 * MS_PER_SECOND),
  SHUTDOWN_GRACE_MS: integer(0, 10 * 60 * MS_PER_SECOND, 25 * MS_PER_SECOND),
  /** After SIGTERM the listener keeps answering (503 + Connection: close) at least this long, within the grace. */
  SHUTDOWN_LAME_DUCK_MS: integer(0, 10 * 60 * MS_PER_SECOND, 5 * MS_PER_SECOND),
  /** Slow clients (nginx's client_header_timeout, client_body_timeout, send_timeout) and answer size. */
  HEADERS_TIMEOUT_MS: integer(100, 5 * 60 * MS_PER_SECOND, 10 * MS_PER_SECOND),
  BODY_IDLE_TIMEOUT_MS: integer(100, 10 * 60 * MS_PER_SECOND, 15 * MS_PER_SECOND),
  /** Longest a whole body may take to arrive (a minimum rate: a trickle within the idle timeout still ends). */
  BODY_TIMEOUT_MS: integer(100, 60 * 60 * MS_PER_SECOND, 60 * MS_PER_SECOND),
  WRITE_TIMEOUT_MS: integer(100, 10 * 60 * MS_PER_SECOND, 30 * MS_PER_SECOND),
  MAX_RESPONSE_BYTES: integer(1024, 1024 * 1024 * 1024, 64 * 1024 * 1024),
  SERVED_MODELS: modelList.optional(),
  BATCHING: z.enum(['on', 'off']).default('on'),
  BATCH_WINDOW_MS: z.coerce.number().min(0).max(1000).default(2),
  MAX_BATCH_ROWS: integer(1, 1 << 16, 256),
  QUEUE_LIMIT_ROWS: integer(1, 1 << 24, 2048),
  MAX_INFLIGHT_BATCHES: integer(1, 1024, 1),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  ADMIN_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
});

export type GatewayConfig = Readonly<z.output<typeof configSchema>>;

export type ConfigResult = { readonly ok: true; readonly config: GatewayConfig } | { readonly ok: false; readonly message: string };

/** Only the variables the schema knows are read, so unrelated environment never changes behaviour. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): ConfigResult {
  const known: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') known[key] = value;
  }
  const parsed = configSchema.safeParse(known);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    return { ok: false, message: `invalid configuration:\n  ${problems.join('\n  ')}` };
  }
  return { ok: true, config: Object.freeze(parsed.data) };
}
