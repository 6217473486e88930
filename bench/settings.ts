// What every benchmark shares: the gateway image's V8 settings (read from the Dockerfile, so the
// figures are those of what ships) and the digits request body.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/support/cache-lock.ts';

export function imageNodeOptions(): string {
  const match = /NODE_OPTIONS="([^"]+)"/.exec(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
  if (match?.[1] === undefined) throw new Error('Dockerfile: no NODE_OPTIONS="..." found');
  return match[1];
}

/** The first image of the digits fixture: 64 pixel values. */
export const digitsPixels: readonly number[] = (JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/digits-sample.json'), 'utf8')) as { images: number[][] }).images[0] ?? [];

/** One row of the digits model as a JSON infer request. */
export const digitsJsonBody = JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: digitsPixels }] });
