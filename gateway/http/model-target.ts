// The model and version named by a /v2/models/{m}[/versions/{v}] path, checked.
import type { Request } from 'express';
import { GatewayError } from '../errors.ts';

export interface ModelTarget {
  readonly model: string;
  /** '' when the path names no version: the backend picks the highest ready one. */
  readonly version: string;
}

const VERSION = /^[0-9]{1,19}$/;

export function modelTarget(req: Request): ModelTarget {
  const params = req.params as Record<string, string | undefined>;
  const model = params['model'] ?? '';
  const version = params['version'];
  if (model === '') throw new GatewayError('INVALID_REQUEST', 'path: model name is empty');
  if (version !== undefined && !VERSION.test(version)) {
    throw new GatewayError('INVALID_REQUEST', `path: version "${version}" must be a positive whole number, e.g. /versions/1`);
  }
  return { model, version: version ?? '' };
}

export function controlDeadline(timeoutMs: number): { deadline: number } {
  return { deadline: Date.now() + timeoutMs };
}
