// POST /v2/models/{m}[/versions/{v}]/infer: read, validate against the model, dispatch, answer.
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import type { InferRequestBody } from '../contract/infer-request-schema.ts';
import { GatewayError } from '../errors.ts';
import { validateInferRequest } from '../models/input-validator.ts';
import { parseInferBody } from './infer-body.ts';
import { binaryOutputSelector, sendInferResult } from './infer-response.ts';
import { MODEL_PATH } from './model-routes.ts';
import { modelTarget } from './model-target.ts';
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

function requireSupportedContentType(req: Request, _res: Response, next: NextFunction): void {
  const header = req.headers['content-type'];
  if (header !== undefined) {
    const type = (header.split(';')[0] ?? '').trim().toLowerCase();
    if (!ACCEPTED_CONTENT_TYPES.has(type)) {
      next(
        new GatewayError(
          'UNSUPPORTED_MEDIA_TYPE',
          `header Content-Type: "${header}" is not supported; send application/json (or application/octet-stream with Inference-Header-Content-Length)`,
        ),
      );
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

function shutDownError(cause?: unknown): GatewayError {
  return new GatewayError('SHUTTING_DOWN', 'the gateway shut down before Triton answered (grace period over); retry', { cause });
}

export function registerInferRoute(router: Router, services: HttpServices): void {
  const { config, catalog, dispatcher, gate } = services;
  const limits = { maxTensorElements: config.MAX_TENSOR_ELEMENTS, maxJsonDepth: config.MAX_JSON_DEPTH };
  const readBody = express.raw({ type: () => true, limit: config.BODY_LIMIT_BYTES });

  router.post(`${MODEL_PATH}/infer`, requireSupportedContentType, readBody, async (req: Request, res: Response) => {
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
    const parsed = parseInferBody(req, config.MAX_JSON_DEPTH);
    const timeoutMs = requestTimeoutMs(req, parsed.body, config.REQUEST_TIMEOUT_MS);
    const deadline = arrived + timeoutMs;
    const signature = await catalog.signature(target.model, target.version);
    // Only a model the backend knows becomes a metric label: client-chosen names would explode cardinality.
    context.model = target.model;
    const validated = validateInferRequest(parsed.body, parsed.binaryInputs, signature, target, limits);
    if (abandoned.signal.aborted) throw gate.expired.aborted ? shutDownError() : new GatewayError('REQUEST_CANCELLED', 'client left before dispatch');

    const result = await dispatcher
      .dispatch(validated.request, {
        deadline,
        signal: abandoned.signal,
        clientDeadline: timeoutMs < config.REQUEST_TIMEOUT_MS,
        batchSize: validated.batchSize,
        maxBatchSize: signature.maxBatchSize,
        tags: context.tags,
      })
      .catch((error: unknown) => {
        throw gate.expired.aborted ? shutDownError(error) : error;
      });
    sendInferResult(res, result, parsed.body.id, binaryOutputSelector(parsed.body), config.MAX_RESPONSE_BYTES);
  });
}
