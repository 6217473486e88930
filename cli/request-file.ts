// Reads the CLI's input file into a list of infer request bodies. Accepted forms (told apart by their
// content): a JSON array of request bodies, JSON lines (one body per line), a single body, or the
// digits shortcut {"pixels": [[...], ...]} (one request per image). Only the file's form is checked
// here; whether a request fits the model is for the gateway to say, request by request.
import { readFile } from 'node:fs/promises';
import type { Result } from '../gateway/result.ts';
import { err, ok } from '../gateway/result.ts';

/** An Open Inference Protocol request body: `inputs` is known to be an array of objects. */
export type InferRequestBody = Readonly<Record<string, unknown>> & { readonly inputs: readonly Readonly<Record<string, unknown>>[] };

/** The input name, datatype and shape used for each image of the `{"pixels": [...]}` shortcut. */
export const PIXELS_INPUT = 'pixels';
export const PIXELS_DATATYPE = 'FP32';

const EXPECTED_FORMS = 'expected a JSON array of request bodies, JSON lines, one {"inputs": [...]} body, or {"pixels": [[...], ...]}';

/** Reads `path` ("-" is stdin) and returns its requests, or a message naming the file and the problem. */
export async function readRequestFile(path: string): Promise<Result<InferRequestBody[], string>> {
  const name = path === '-' ? 'stdin' : path;
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : error instanceof Error ? error.message : String(error);
    return err(`cannot read ${name}: ${reason}`);
  }
  return parseRequests(text, name);
}

/** Parses the text of an input file; `name` is used in messages. */
export function parseRequests(text: string, name: string): Result<InferRequestBody[], string> {
  const content = text.replace(/^\uFEFF/, '');
  if (content.trim() === '') return err(`${name} is empty: ${EXPECTED_FORMS}`);
  let whole: unknown;
  try {
    whole = JSON.parse(content);
  } catch (error) {
    const lines = content.split(/\r?\n/).filter((line) => line.trim() !== '');
    if (lines.length < 2) return err(`${name}: not valid JSON (${jsonMessage(error)})`);
    return parseJsonLines(content, name);
  }
  if (Array.isArray(whole)) {
    if (whole.length === 0) return err(`${name} holds no requests (an empty array)`);
    return collect(whole.map((body, index) => checkBody(body, `${name}: element ${index} of the array`)));
  }
  if (isObject(whole) && 'pixels' in whole && !('inputs' in whole)) return pixelRequests(whole['pixels'], name);
  if (isObject(whole) && 'inputs' in whole) return collect([checkBody(whole, name)]);
  return err(`${name}: ${EXPECTED_FORMS}`);
}

function parseJsonLines(content: string, name: string): Result<InferRequestBody[], string> {
  const bodies: Result<InferRequestBody, string>[] = [];
  const lines = content.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      return err(`${name} line ${i + 1}: not valid JSON (${jsonMessage(error)}); ${EXPECTED_FORMS}`);
    }
    bodies.push(checkBody(value, `${name} line ${i + 1}`));
  }
  return collect(bodies);
}

function pixelRequests(pixels: unknown, name: string): Result<InferRequestBody[], string> {
  if (!Array.isArray(pixels) || pixels.length === 0) return err(`${name}: "pixels" must be a non-empty array of images (arrays of numbers)`);
  const bodies: InferRequestBody[] = [];
  for (let i = 0; i < pixels.length; i++) {
    const image: unknown = pixels[i];
    if (!Array.isArray(image) || image.length === 0 || !image.every((value) => typeof value === 'number')) {
      return err(`${name}: pixels[${i}] must be a non-empty array of numbers`);
    }
    bodies.push({ inputs: [{ name: PIXELS_INPUT, datatype: PIXELS_DATATYPE, shape: [1, image.length], data: image }] });
  }
  return ok(bodies);
}

function checkBody(value: unknown, where: string): Result<InferRequestBody, string> {
  if (!isObject(value)) return err(`${where}: a request body must be a JSON object with "inputs"`);
  const inputs = value['inputs'];
  if (!Array.isArray(inputs) || inputs.length === 0) return err(`${where}: "inputs" must be a non-empty array`);
  const bad = inputs.findIndex((input) => !isObject(input));
  if (bad >= 0) return err(`${where}: inputs[${bad}] must be an object`);
  return ok(value as InferRequestBody);
}

function collect(results: readonly Result<InferRequestBody, string>[]): Result<InferRequestBody[], string> {
  const bodies: InferRequestBody[] = [];
  for (const result of results) {
    if (!result.ok) return result;
    bodies.push(result.value);
  }
  return ok(bodies);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
