// The contract's cases for the `classification: N` output parameter: both
// backends answer the top N classes as Triton does (BYTES "value:index", values as printf("%f"); per
// row [rows, N] for digits, which batches; one flat list [N] for text_topic, which does not), and both
// refuse, with the same status and code, what Triton cannot do (a BYTES output made Triton 2.51 crash).
// Values are compared with onnxruntime's within 1e-5 and the classes must be a true top N, so the two
// runtimes (Python onnxruntime behind Triton, onnxruntime-node embedded) may order near-ties differently.
import { describe, expect, it } from 'vitest';
import type { ContractBackend } from './contract-backend.ts';
import { digits, texts } from './contract-samples.ts';
import type { ReferenceAnswers } from './contract-samples.ts';

const TOLERANCE = 1e-5;
const CLASS_STRING = /^(-?\d+\.\d{6}):(\d+)$/;

export function classificationCases(backend: ContractBackend, references: ReferenceAnswers): void {
  const post = async (model: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${backend.gatewayUrl}/v2/models/${model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const images = (rows: number) => ({ name: 'pixels', datatype: 'FP32', shape: [rows, 64], data: digits.images.slice(0, rows).flat() });
  const textInput = (rows: number) => ({ name: 'text', datatype: 'BYTES', shape: [rows, 1], data: texts.texts.slice(0, rows) });

  describe(`[${backend.name}] output parameter classification`, () => {
    it('digits (batching): the top 3 of each row of probabilities, [rows, 3] BYTES "value:index"', async () => {
      const rows = 5;
      const answer = await post('digits', { inputs: [images(rows)], outputs: [{ name: 'probabilities', parameters: { classification: 3 } }] });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const [output] = answer.body['outputs'] as { datatype: string; shape: number[]; data: string[] }[];
      expect({ datatype: output?.datatype, shape: output?.shape }).toEqual({ datatype: 'BYTES', shape: [rows, 3] });
      const probabilities = references.digits('2')['probabilities']?.data as number[];
      for (let row = 0; row < rows; row++) {
        expectTopClasses(output?.data.slice(row * 3, row * 3 + 3) ?? [], probabilities.slice(row * 10, row * 10 + 10), `image ${row}`);
      }
    });

    it('digits label (INT64): "label:0" per row, [rows, 1]', async () => {
      const rows = 5;
      const answer = await post('digits', { inputs: [images(rows)], outputs: [{ name: 'label', parameters: { classification: 1 } }] });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const labels = (references.digits('2')['label']?.data ?? []).slice(0, rows);
      expect(answer.body['outputs']).toEqual([{ name: 'label', datatype: 'BYTES', shape: [rows, 1], data: labels.map((label) => `${label}:0`) }]);
    });

    it('text_topic (no batching): the top 2 of the whole probabilities tensor as one list, [2]', async () => {
      const rows = 4;
      const answer = await post('text_topic', { inputs: [textInput(rows)], outputs: [{ name: 'probabilities', parameters: { classification: 2 } }] });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const [output] = answer.body['outputs'] as { datatype: string; shape: number[]; data: string[] }[];
      expect({ datatype: output?.datatype, shape: output?.shape }).toEqual({ datatype: 'BYTES', shape: [2] });
      const probabilities = (references.text()['probabilities']?.data as number[]).slice(0, rows * 3);
      expectTopClasses(output?.data ?? [], probabilities, 'the texts');
    });

    const refusals = [
      { what: 'a BYTES output (Triton 2.51 crashes on it)', model: 'text_topic', input: textInput(1), output: 'label', classification: 1 },
      { what: 'a count of 0', model: 'digits', input: images(1), output: 'probabilities', classification: 0 },
      { what: 'a count that is not a number', model: 'digits', input: images(1), output: 'probabilities', classification: 'three' },
    ];
    it.each(refusals)('refuses $what: 400 INVALID_OUTPUT naming the parameter; the backend keeps serving', async ({ model, input, output, classification }) => {
      const answer = await post(model, { inputs: [input], outputs: [{ name: output, parameters: { classification } }] });
      expect({ status: answer.status, code: answer.body['code'] }, JSON.stringify(answer.body)).toEqual({ status: 400, code: 'INVALID_OUTPUT' });
      expect(answer.body['error']).toContain(`outputs[0] "${output}": parameters.classification`);
      expect((await post(model, { inputs: [input] })).status).toBe(200);
    });
  });
}

/** `strings` are a top-N of `values`: well formed, distinct, non-increasing, each value onnxruntime's. */
function expectTopClasses(strings: readonly string[], values: readonly number[], where: string): void {
  const parsed = strings.map((text) => {
    const match = CLASS_STRING.exec(text);
    if (match === null) throw new Error(`${where}: "${text}" is not "value:index"`);
    return { value: Number(match[1]), index: Number(match[2]) };
  });
  const chosen = new Set(parsed.map((entry) => entry.index));
  expect(chosen.size, `${where}: distinct classes in ${strings.join(' ')}`).toBe(parsed.length);
  parsed.forEach(({ value, index }, i) => {
    expect(Math.abs(value - (values[index] ?? Number.NaN)), `${where}: ${strings[i]} vs onnxruntime's ${values[index]}`).toBeLessThanOrEqual(TOLERANCE);
    if (i > 0) expect(value, `${where}: ${strings.join(' ')} sorted`).toBeLessThanOrEqual(parsed[i - 1]?.value ?? Number.POSITIVE_INFINITY);
  });
  const lowest = Math.min(...parsed.map((entry) => entry.value));
  const beaten = values.flatMap((value, index) => (!chosen.has(index) && value > lowest + TOLERANCE ? [`${value}:${index}`] : []));
  expect(beaten, `${where}: classes left out that beat ${strings.join(' ')}`).toEqual([]);
}
