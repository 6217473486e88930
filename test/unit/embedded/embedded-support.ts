// Shared helpers of the embedded-backend tests: a temp copy of the real model repository, a logger that
// keeps its lines, a bounded wait on real timers, and request builders for the two real models.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { EmbeddedBackend } from '../../../gateway/backends/embedded/embedded-backend.ts';
import type { EmbeddedBackendOptions } from '../../../gateway/backends/embedded/embedded-backend.ts';
import type { CallOptions, InferRequest, RawTensor } from '../../../gateway/backends/backend.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import { createLogger } from '../../../gateway/observability/logger.ts';
import type { Logger } from '../../../gateway/observability/logger.ts';
import { decodeBytesElements, encodeBytesElements } from '../../../gateway/tensors/bytes-elements.ts';

export const MODEL_REPOSITORY = fileURLToPath(new URL('../../../model_repository/', import.meta.url));
export const WAIT_LIMIT_MS = 5_000;
const WAIT_STEP_MS = 10;

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly model?: string;
  readonly version?: number;
  readonly reason?: string;
}

export interface CapturedLogger {
  readonly logger: Logger;
  readonly lines: LogLine[];
}

export function capturingLogger(): CapturedLogger {
  const lines: LogLine[] = [];
  const logger = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

/** A fresh copy of the real repository's models in a temp directory; remove() deletes it. */
export function copyRepository(): { readonly root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'embedded-repo-'));
  for (const model of ['digits', 'text_topic']) {
    cpSync(join(MODEL_REPOSITORY, model), join(root, model), { recursive: true, filter: (source) => !source.endsWith('corpus.tsv') });
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export async function startBackend(options: Partial<EmbeddedBackendOptions> & { readonly repository: string }): Promise<EmbeddedBackend> {
  const backend = new EmbeddedBackend({ pollIntervalMs: 0, logger: createLogger('silent'), ...options });
  await backend.start();
  return backend;
}

/**
 * For a test file whose tests each start a backend over a fresh copy of the repository: call at the top
 * level; the returned start() copies the repository, lets `prepare` change the copy, and starts a backend
 * over it. Every backend it started is closed, and its copy removed, after each test.
 */
export function backendOnCopyPerTest(): (
  options?: Partial<EmbeddedBackendOptions>,
  prepare?: (root: string) => void,
) => Promise<{ readonly backend: EmbeddedBackend; readonly root: string }> {
  const started: { repository: ReturnType<typeof copyRepository>; backend?: EmbeddedBackend }[] = [];
  afterEach(async () => {
    for (const { repository, backend } of started.splice(0)) {
      await backend?.close();
      repository.remove();
    }
  });
  return async (options = {}, prepare) => {
    const entry: (typeof started)[number] = { repository: copyRepository() };
    started.push(entry);
    prepare?.(entry.repository.root);
    entry.backend = await startBackend({ ...options, repository: entry.repository.root });
    return { backend: entry.backend, root: entry.repository.root };
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after WAIT_LIMIT_MS. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> {
  const until = Date.now() + WAIT_LIMIT_MS;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) throw new Error(`timed out after ${WAIT_LIMIT_MS} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
    await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
  }
}

export function callOptions(timeoutMs = 5_000): CallOptions {
  return { deadline: Date.now() + timeoutMs };
}

/** `rows` 8x8 images with raw pixel values 0..16, different per row. */
export function digitPixels(rows: number): Float32Array {
  return Float32Array.from({ length: rows * 64 }, (_, i) => ((i * 7 + Math.floor(i / 64) * 5) % 17));
}

export function digitsRequest(rows: number, version = '', outputs: readonly string[] = []): InferRequest {
  const pixels = digitPixels(rows);
  return {
    model: 'digits',
    version,
    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [rows, 64], data: new Uint8Array(pixels.buffer) }],
    outputs,
  };
}

export function textRequest(sentences: readonly string[], outputs: readonly string[] = []): InferRequest {
  const data = encodeBytesElements(sentences);
  if (!data.ok) throw new Error(data.error.message);
  return { model: 'text_topic', version: '', inputs: [{ name: 'text', datatype: 'BYTES', shape: [sentences.length, 1], data: data.value }], outputs };
}

export function outputNamed(outputs: readonly RawTensor[], name: string): RawTensor {
  const output = outputs.find((candidate) => candidate.name === name);
  if (output === undefined) throw new Error(`no output ${name} among ${outputs.map((o) => o.name).join(', ')}`);
  return output;
}

export function float32Of(tensor: RawTensor): Float32Array {
  return new Float32Array(tensor.data.slice().buffer);
}

export function int64Of(tensor: RawTensor): BigInt64Array {
  return new BigInt64Array(tensor.data.slice().buffer);
}

export function stringsOf(tensor: RawTensor): string[] {
  const decoded = decodeBytesElements(tensor.data);
  if (!decoded.ok) throw new Error(decoded.error.message);
  return decoded.value;
}

/** The GatewayError `promise` rejects with; throws when it resolves or rejects with anything else. */
export async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(error)}`);
  return error;
}
