// The `classification: N` output parameter in the embedded backend, as Triton 2.51 answers it (seen
// against the test suite's real Triton, python-backend twins; the contract suite checks both backends):
// BYTES "value:index[:label]", per row [rows, N] for a model with batching, one flat list [N] without,
// values written as C's printf("%f"), N above the row's size capped, and refusals for what Triton refuses.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawTensor } from '../../../gateway/backends/backend.ts';
import { classificationCounts, classify, printfFixed6 } from '../../../gateway/backends/embedded/classification.ts';
import type { EmbeddedBackend } from '../../../gateway/backends/embedded/embedded-backend.ts';
import { MODEL_REPOSITORY, backendOnCopyPerTest, callOptions, digitsRequest, failure, float32Of, outputNamed, startBackend, stringsOf, textRequest } from './embedded-support.ts';

const fp32 = (name: string, shape: number[], values: number[]): RawTensor => ({ name, datatype: 'FP32', shape, data: new Uint8Array(Float32Array.from(values).buffer) });

describe('classify', () => {
  it('a model with batching: each row sorted, highest first, [rows, N]; ties keep index order', () => {
    const out = classify(fp32('p', [2, 4], [0.1, 0.7, 0.1, 0.1, 0.25, 0, 0.5, 0.25]), 3, true);
    expect(out.datatype).toBe('BYTES');
    expect(out.shape).toEqual([2, 3]);
    expect(stringsOf(out)).toEqual(['0.700000:1', '0.100000:0', '0.100000:2', '0.500000:2', '0.250000:0', '0.250000:3']);
  });

  it('a model without batching: the whole tensor is one list, [N]', () => {
    const out = classify(fp32('p', [2, 3], [0.2, 0.5, 0.3, 0.9, 0.05, 0.05]), 2, false);
    expect(out.shape).toEqual([2]);
    expect(stringsOf(out)).toEqual(['0.900000:3', '0.500000:1']);
  });

  it('N larger than a row gives the whole row; labels are appended where the label file has one', () => {
    const out = classify(fp32('p', [1, 3], [0.2, 0.5, 0.3]), 30, true, ['cat', '', 'dog']);
    expect(out.shape).toEqual([1, 3]);
    expect(stringsOf(out)).toEqual(['0.500000:1', '0.300000:2:dog', '0.200000:0:cat']);
  });

  it('integers are written in decimal (INT64 too)', () => {
    const out = classify({ name: 'l', datatype: 'INT64', shape: [2, 1], data: new Uint8Array(BigInt64Array.from([4n, -2n]).buffer) }, 2, true);
    expect(out.shape).toEqual([2, 1]);
    expect(stringsOf(out)).toEqual(['4:0', '-2:0']);
  });

  it('refuses BYTES, BOOL and FP16 outputs before the run, as Triton does (BYTES crashes Triton 2.51)', () => {
    for (const datatype of ['BYTES', 'BOOL', 'FP16'] as const) {
      const output = { name: 'o', datatype, dims: [1], reshape: undefined, optional: false, labelFilename: undefined };
      const request = { model: 'm', version: '', inputs: [], outputs: ['o'], outputParameters: { o: { classification: 1 } } };
      expect(() => classificationCounts(request, [output])).toThrow(/class result not available/);
    }
  });
});

describe('printfFixed6 (std::to_string of a float)', () => {
  it.each([
    [0.5, '0.500000'],
    [2 ** -20, '0.000001'],
    // exact ties: C rounds to even, toFixed would round up
    [0.0078125, '0.007812'],
    [0.0234375, '0.023438'],
    // a tie where one float step is over 1e-6: subtracting 0.5e-6 cannot reach the even neighbour
    [8589934592.0078125, '8589934592.007812'],
    [-0, '-0.000000'],
    [-1.5, '-1.500000'],
    [1e21, '1000000000000000000000.000000'],
    [Number.NaN, 'nan'],
    [Number.POSITIVE_INFINITY, 'inf'],
    [Number.NEGATIVE_INFINITY, '-inf'],
  ])('%s -> %s', (value, expected) => {
    expect(printfFixed6(value)).toBe(expected);
  });
});

describe('the embedded backend honours output parameter classification', () => {
  let backend: EmbeddedBackend;
  beforeAll(async () => {
    backend = await startBackend({ repository: MODEL_REPOSITORY });
  });
  afterAll(async () => {
    await backend.close();
  });

  it('digits: the top 3 of each row of probabilities, from the same numbers the plain output has', async () => {
    const plain = float32Of(outputNamed((await backend.infer(digitsRequest(2, '', ['probabilities']), callOptions())).outputs, 'probabilities'));
    const request = { ...digitsRequest(2, '', ['probabilities']), outputParameters: { probabilities: { classification: 3 } } };
    const out = outputNamed((await backend.infer(request, callOptions())).outputs, 'probabilities');
    expect({ datatype: out.datatype, shape: out.shape }).toEqual({ datatype: 'BYTES', shape: [2, 3] });
    const expected = [0, 1].flatMap((row) => {
      const values = Array.from(plain.subarray(row * 10, row * 10 + 10));
      const order = values.map((_, i) => i).sort((a, b) => (values[b] as number) - (values[a] as number));
      return order.slice(0, 3).map((i) => `${printfFixed6(values[i] as number)}:${i}`);
    });
    expect(stringsOf(out)).toEqual(expected);
  });

  it('refuses a count that is not a whole number >= 1, and a BYTES output, with 400 BACKEND_REJECTED', async () => {
    for (const classification of [0, -1, 2.5, 'x']) {
      const request = { ...digitsRequest(1, '', ['probabilities']), outputParameters: { probabilities: { classification } } };
      const error = await failure(backend.infer(request, callOptions()));
      expect({ code: error.code, status: error.status }).toEqual({ code: 'BACKEND_REJECTED', status: 400 });
      expect(error.message).toContain('classification');
    }
    const text = { ...textRequest(['pizza'], ['label']), outputParameters: { label: { classification: 1 } } };
    expect((await failure(backend.infer(text, callOptions()))).message).toMatch(/class result not available for output 'label'.*BYTES/);
  });
});

describe("the config's label_filename (a file of one label per line in the model directory)", () => {
  const labelled = (file: string) =>
    readFileSync(join(MODEL_REPOSITORY, 'digits', 'config.pbtxt'), 'utf8').replace('name: "probabilities"', `name: "probabilities"\n    label_filename: "${file}"`);
  const startOnCopy = backendOnCopyPerTest();

  it('appends the label of each class: "value:index:label"', async () => {
    const { backend } = await startOnCopy({}, (root) => {
      writeFileSync(join(root, 'digits', 'config.pbtxt'), labelled('digit_names.txt'));
      writeFileSync(join(root, 'digits', 'digit_names.txt'), `${NAMES.join('\n')}\n`);
    });
    const request = { ...digitsRequest(2, '', ['probabilities']), outputParameters: { probabilities: { classification: 2 } } };
    const strings = stringsOf(outputNamed((await backend.infer(request, callOptions())).outputs, 'probabilities'));
    expect(strings).toHaveLength(4);
    for (const text of strings) {
      const match = /^\d+\.\d{6}:(\d):(\w+)$/.exec(text);
      expect(match, text).not.toBeNull();
      expect(match?.[2], text).toBe(NAMES[Number(match?.[1])]);
    }
  });

  it('a label file that is missing fails the load of the version, with the reason in the index', async () => {
    const { backend } = await startOnCopy({}, (root) => writeFileSync(join(root, 'digits', 'config.pbtxt'), labelled('no_such_file.txt')));
    const entry = (await backend.repositoryIndex(false, callOptions())).find((e) => e.name === 'digits');
    expect(entry).toMatchObject({ state: 'UNAVAILABLE', reason: expect.stringContaining('no_such_file.txt') });
  });
});

const NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
