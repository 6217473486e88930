// The contract's inference cases: 300 digits images and 100 texts answered exactly as onnxruntime does
// when it runs the same model.onnx directly (FP32 within 1e-5, INT64 and BYTES exactly), in the four
// ways of the binary tensor extension (JSON or raw bytes, in and out), batch sizes 1..64, the latest
// and a pinned version; and every output when none is asked for.
import { describe, expect, it } from 'vitest';
import { fp32Mismatches } from '../support/fp32-mismatches.ts';
import type { ContractBackend } from './contract-backend.ts';
import { chunk, digits, expectDigitsLikeReference, firstImage, FORMATS, infer, output, reference, texts } from './contract-samples.ts';
import type { ReferenceAnswers } from './contract-samples.ts';

export function inferenceCases(backend: ContractBackend, references: ReferenceAnswers): void {
  describe(`[${backend.name}] correctness against onnxruntime`, () => {
    it('the reference classifies the digits sample like the README says (v2 test accuracy 0.9733)', () => {
      const labels = references.digits('2')['label']?.data ?? [];
      const correct = labels.filter((label, row) => label === digits.labels[row]).length;
      expect(labels).toHaveLength(digits.images.length);
      expect(correct / labels.length).toBeGreaterThan(0.95);
    });

    describe.each(FORMATS)('digits: $name', (format) => {
      it.each(['', '2'])('version "%s" answers every image exactly as onnxruntime does', async (version) => {
        await expectDigitsLikeReference(backend, references, { version, answeredBy: '2', referenceVersion: '2', format });
      });
    });

    describe.each(FORMATS)('text_topic (BYTES, no batching): $name', (format) => {
      it.each(['', '1'])('version "%s" answers every text, unusual ones included, exactly as onnxruntime does', async (version) => {
        const expected = references.text();
        const chunks = chunk(texts.texts.length);
        const answers = await Promise.all(
          chunks.map(({ start, size }) =>
            infer(backend, 'text_topic', version, {
              id: `text-${start}`,
              inputs: [{ name: 'text', datatype: 'BYTES', shape: [size, 1], data: texts.texts.slice(start, start + size), binary: format.binaryIn }],
              outputs: [
                { name: 'label', binary: format.binaryOut },
                { name: 'probabilities', binary: format.binaryOut },
              ],
            }),
          ),
        );
        answers.forEach((answer, index) => {
          const { start, size } = chunks[index] ?? { start: 0, size: 0 };
          const where = `texts ${start}..${start + size - 1}`;
          expect(answer.header).toMatchObject({ model_name: 'text_topic', model_version: '1', id: `text-${start}` });
          const label = output(answer, 'label');
          const probabilities = output(answer, 'probabilities');
          expect({ datatype: label.datatype, shape: label.shape, binary: label.binary }).toEqual({ datatype: 'BYTES', shape: [size], binary: format.binaryOut });
          expect({ datatype: probabilities.datatype, shape: probabilities.shape, binary: probabilities.binary }).toEqual({ datatype: 'FP32', shape: [size, 3], binary: format.binaryOut });
          const expectedLabels = reference(expected, 'label', start, size);
          const wrongLabels = label.data.flatMap((value, row) => (value === expectedLabels[row] ? [] : [`text ${start + row} ${JSON.stringify(texts.texts[start + row])}: ${JSON.stringify(value)}, onnxruntime says ${JSON.stringify(expectedLabels[row])}`]));
          expect(wrongLabels, `labels of ${where}`).toEqual([]);
          expect(label.data, `labels of ${where}`).toHaveLength(size);
          expect(fp32Mismatches(probabilities.data, reference(expected, 'probabilities', start * 3, size * 3)), `probabilities of ${where}`).toEqual([]);
        });
      });
    });

    it('answers with every output when none is requested', async () => {
      const pixels = { name: 'pixels', datatype: 'FP32', shape: [1, 64], data: firstImage, binary: false } as const;
      const all = await infer(backend, 'digits', '', { inputs: [pixels] });
      expect(all.outputs.map((o) => o.name).sort()).toEqual(['label', 'probabilities']);
      const one = await infer(backend, 'digits', '', { inputs: [pixels], outputs: [{ name: 'label', binary: false }] });
      expect(one.outputs.map((o) => o.name)).toEqual(['label']);
    });
  });
}
