// POST /v2/models/{m}[/versions/{v}]/infer: read, validate against the model, dispatch, answer.
import type { NextFunction, Request, Response, Router } from 'express';
import type { InferRequestBody } from '../contract/infer-request-schema.ts';
import { clientLeft, GatewayError, shutDownBeforeAnswer } from '../errors.ts';
import { validateInferRequest } from '../models/input-validator.ts';
import { readBody } from './body-reader.ts';
import { HEADER_CONTENT_LENGTH, jsonPartLength, parseInferBody } from './infer-body.ts';
import type { InferBodyLimits, ParsedInferBody } from './infer-body.ts';
import { binaryOutputSelector, sendInferResult } from './infer-response.ts';
import { MODEL_PATH, modelTarget } from './model-routes.ts';
import { ParseBudget } from './parse-budget.ts';
import { locals } from './request-context.ts';
import type { HttpServices } from './services.ts';

/**
 * JSON, or the binary extension. Triton itself ignores Content-Type, and clients built on libcurl or
 * curl's `-d` send form-urlencoded and fetch() sends text/plain for what is really the protocol's JSON,
 * so those are read as the protocol's body too; anything else (XML, multipart, images...) is a 415.
 */
const ACCEPTED_CONTENT_TYPES = new Set([
  'application/json',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'text/plain',
]);

/** JSON is UTF-8 (RFC 8259); ASCII is a subset of it. Any other charset would be misread, so it is a 415. */
const ACCEPTED_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);

/** The charset parameter among `parameters` (the part after the media type's first ';'), if any. */
function charsetOf(parameters: string): string | undefined {
  for (const parameter of parameters.split(';')) {
    const charset = /^\s*charset\s*=\s*"?([^"\s]*)"?\s*$/i.exec(parameter)?.[1];
    if (charset !== undefined) return charset;
  }
  return undefined;
}

function requireSupportedContentType(req: Request, _res: Response, next: NextFunction): void {
  const header = req.headers['content-type'];
  if (header !== undefined) {
    const separator = header.indexOf(';');
    const type = separator === -1 ? header : header.slice(0, separator);
    if (!ACCEPTED_CONTENT_TYPES.has(type.trim().toLowerCase())) {
      next(
        new GatewayError(
          'UNSUPPORTED_MEDIA_TYPE',
          `header Content-Type: "${header}" is not supported; send application/json (or application/octet-stream with Inference-Header-Content-Length)`,
        ),
      );
      return;
    }
    const charset = separator === -1 ? undefined : charsetOf(header.slice(separator + 1));
    if (charset !== undefined && !ACCEPTED_CHARSETS.has(charset.toLowerCase())) {
      next(new GatewayError('UNSUPPORTED_MEDIA_TYPE', `header Content-Type: charset "${charset}" is not supported; JSON bodies are UTF-8`));
      return;
    }
  }
  next();
}

export const HEADER_REQUEST_TIMEOUT_MS = 'x-request-timeout-ms';
const MICROSECONDS_PER_MS = 1000;

/**
 * The request's own budget: the `timeout` parameter in microseconds (as Triton reads it) or the
 * X-Request-Timeout-Ms header, never longer than REQUEST_TIMEOUT_MS. 0 or absent = the configured one.
 */
function requestTimeoutMs(req: Request, body: InferRequestBody, configuredMs: number): number {
  let asked: number | undefined;
  const parameter = body.parameters?.['timeout'];
  if (parameter !== undefined) {
    if (typeof parameter !== 'number' || !Number.isSafeInteger(parameter) || parameter < 0) {
      throw new GatewayError('INVALID_REQUEST', `parameters.timeout: must be a whole number of microseconds >= 0, got ${JSON.stringify(parameter)}`);
    }
    asked = parameter / MICROSECONDS_PER_MS;
  }
  const header = req.get(HEADER_REQUEST_TIMEOUT_MS);
  if (header !== undefined) {
    if (!/^\d{1,9}$/.test(header.trim())) {
      throw new GatewayError('INVALID_REQUEST', `header X-Request-Timeout-Ms: must be a whole number of milliseconds, got "${header}"`);
    }
    const headerMs = Number(header);
    asked = asked === undefined || asked === 0 ? headerMs : Math.min(asked, headerMs);
  }
  return asked === undefined || asked === 0 ? configuredMs : Math.min(asked, configuredMs);
}

export function registerInferRoute(router: Router, services: HttpServices): void {
  const { config, catalog, dispatcher, gate, parsePool } = services;
  const limits = { maxTensorElements: config.MAX_TENSOR_ELEMENTS, maxJsonDepth: config.MAX_JSON_DEPTH };
  const bodyLimits = { limitBytes: config.BODY_LIMIT_BYTES, maxInflateRatio: config.MAX_INFLATE_RATIO };
  const budget = new ParseBudget(config.PARSE_BUDGET_BYTES);

  /** The parse limits for a model of `modelInputs` inputs, built once per count rather than per request. */
  const parseLimitsByInputs = new Map<number, InferBodyLimits>();
  const parseLimitsFor = (modelInputs: number): InferBodyLimits => {
    let found = parseLimitsByInputs.get(modelInputs);
    if (found === undefined) parseLimitsByInputs.set(modelInputs, (found = Object.freeze({ ...limits, modelInputs })));
    return found;
  };

  /** Reads and parses the body within the budget; large JSON parts are parsed off the event loop. */
  async function readInferBody(req: Request, modelInputs: number, signal: AbortSignal): Promise<ParsedInferBody> {
    const lease = budget.lease();
    try {
      const raw = await readBody(req, lease, bodyLimits, signal);
      const parseLimits = parseLimitsFor(modelInputs);
      const headerLength = req.get(HEADER_CONTENT_LENGTH);
      // Only the JSON part costs parsing: binary tensor data is sliced, never parsed.
      return jsonPartLength(raw.length, headerLength) > config.PARSE_OFFLOAD_BYTES
        ? await parsePool.parse(raw, headerLength, parseLimits, signal)
        : parseInferBody(raw, headerLength, parseLimits);
    } finally {
      lease.release();
    }
  }

  // A refusal before the whole body arrived goes to the error handler, which drops the rest of the body.
  router.post(`${MODEL_PATH}/infer`, requireSupportedContentType, serveInfer);

  /** After the grace period any failure is the stop's: the client is told so (503), not what was cut short. */
  const shutDownIfExpired = (error: unknown): never => {
    throw gate.expired.aborted ? shutDownBeforeAnswer(error) : error;
  };

  async function serveInfer(req: Request, res: Response): Promise<void> {
    const arrived = Date.now();
    const context = locals(res);
    context.route = 'infer';
    // Nobody reads an answer to a client that left, or after the grace period: cancel the work on its
    // behalf, from the first await on.
    const abandoned = new AbortController();
    const unwatch = gate.watch(abandoned);
    res.on('close', () => {
      unwatch();
      if (!res.writableFinished) abandoned.abort();
    });
    const target = modelTarget(req);
    // Decided before a byte of the body is read: an unknown or unready model, and a model whose queue is
    // already full, are answered without reading or parsing what the client sent.
    const signature = await catalog.signature(target.model, target.version);
    // Only a model the backend knows becomes a metric label: client-chosen names would explode cardinality.
    context.model = target.model;
    const shed = dispatcher.refuseIfFull(target.model);
    if (shed !== undefined) throw shed;
    const parsed = await readInferBody(req, signature.inputs.length, abandoned.signal).catch(shutDownIfExpired);
    const timeoutMs = requestTimeoutMs(req, parsed.body, config.REQUEST_TIMEOUT_MS);
    const deadline = arrived + timeoutMs;
    const validated = validateInferRequest(parsed.body, parsed.binaryInputs, signature, target, limits, parsed.encodedInputs);
    if (abandoned.signal.aborted) throw gate.expired.aborted ? shutDownBeforeAnswer() : clientLeft('before dispatch');

    const result = await dispatcher
      .dispatch(validated.request, {
        deadline,
        signal: abandoned.signal,
        clientDeadline: timeoutMs < config.REQUEST_TIMEOUT_MS,
        batchSize: validated.batchSize,
        maxBatchSize: signature.maxBatchSize,
        tags: context.tags,
      })
      .catch(shutDownIfExpired);
    sendInferResult(res, result, parsed.body.id, binaryOutputSelector(parsed.body), config.MAX_RESPONSE_BYTES);
  }
}
