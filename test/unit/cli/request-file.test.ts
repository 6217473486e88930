// The forms of the CLI's input file, told apart by content, and the messages for files it cannot use.
import { describe, expect, it } from 'vitest';
import { parseRequests } from '../../../cli/request-file.ts';

const body = (value: number) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [value] }] });

describe('parseRequests', () => {
  it('reads a JSON array of request bodies', () => {
    expect(parseRequests(JSON.stringify([body(1), body(2)]), 'f')).toEqual({ ok: true, value: [body(1), body(2)] });
  });

  it('reads JSON lines, skipping blank lines and CRLF endings', () => {
    const text = `${JSON.stringify(body(1))}\r\n\r\n${JSON.stringify(body(2))}\n`;
    expect(parseRequests(text, 'f')).toEqual({ ok: true, value: [body(1), body(2)] });
  });

  it('reads one request body, with a byte order mark', () => {
    expect(parseRequests(`\uFEFF${JSON.stringify(body(3))}`, 'f')).toEqual({ ok: true, value: [body(3)] });
  });

  it('turns {"pixels": [...]} into one FP32 [1, n] request per image, ignoring other keys', () => {
    const parsed = parseRequests(JSON.stringify({ about: 'x', labels: [4, 2], pixels: [[0, 16], [1.5, 2]] }), 'f');
    expect(parsed).toEqual({
      ok: true,
      value: [
        { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 2], data: [0, 16] }] },
        { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 2], data: [1.5, 2] }] },
      ],
    });
  });

  it.each([
    ['', 'f is empty'],
    ['   \n', 'f is empty'],
    ['{"inputs": [', 'f: not valid JSON'],
    [`${JSON.stringify(body(1))}\nnope`, 'f line 2: not valid JSON'],
    ['[]', 'f holds no requests'],
    ['42', 'f: expected a JSON array'],
    ['{"model": "digits"}', 'f: expected a JSON array'],
    ['[{"inputs": []}]', 'f: element 0 of the array: "inputs" must be a non-empty array'],
    ['[{"inputs": [1]}]', 'f: element 0 of the array: inputs[0] must be an object'],
    [`${JSON.stringify(body(1))}\n[1]`, 'f line 2: a request body must be a JSON object'],
    ['{"pixels": []}', 'f: "pixels" must be a non-empty array of images'],
    ['{"pixels": [[1], []]}', 'f: pixels[1] must be a non-empty array of numbers'],
  ])('refuses %j', (text, message) => {
    const parsed = parseRequests(text, 'f');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(message);
  });
});
