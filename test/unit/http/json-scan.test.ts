import { describe, expect, it } from 'vitest';
import { parseCostBytes } from '../../../gateway/http/json-body.ts';
import { scanJson } from '../../../gateway/http/json-scan.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('scanJson refuses nesting deeper than its limit', () => {
  it.each([
    ['{}', 1, true],
    ['{"a":[1,[2]]}', 3, true],
    ['{"a":[1,[2]]}', 2, false],
    ['"[[[[[["', 1, true],
    ['{"a":"\\"[[[["}', 1, true],
    ['[' .repeat(1_000_000), 64, false],
  ])('%s within %i -> %s', (text, depth, expected) => {
    expect(scanJson(bytes(text), depth).ok).toBe(expected);
  });
});

describe('scanJson counts what JSON.parse would build', () => {
  it.each([
    ['{}', 0, 0, 0],
    ['[]', 0, 0, 0],
    ['[1, 2.5e3, -3]', 3, 0, 0],
    ['{"a": 1, "b": "x,y]", "c": null}', 3, 0, 3],
    ['{"inputs": [{"shape": [1, 2], "data": [[1, 2]]}]}', 4, 5, 3],
    ['[[], [[]], {}, {"k": []}]', 0, 6, 1],
    ['[ "a" , "b\\"," , true , false ]', 4, 0, 0],
    ['\n[\t1 ,\r\n 2 ]\n', 2, 0, 0],
  ])('%s: %i scalars, %i containers, %i members', (text, scalars, containers, members) => {
    expect(scanJson(bytes(text), 32)).toEqual({ ok: true, scalars, containers, members });
  });

  it('agrees with JSON.parse on a generated body', () => {
    const body = { id: 'x', inputs: [{ name: 'a', shape: [2, 3], data: [[1, 2, 3], [4, 5, 6]], parameters: { p: 'q,[' } }], outputs: [{ name: 'o' }] };
    let scalars = 0;
    let containers = 0;
    let members = 0;
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) {
        for (const item of value) {
          if (typeof item === 'object' && item !== null) containers++;
          else scalars++;
          walk(item);
        }
      } else if (typeof value === 'object' && value !== null) {
        for (const item of Object.values(value)) {
          members++;
          if (typeof item === 'object' && item !== null) containers++;
          else scalars++;
          walk(item);
        }
      }
    };
    walk(body);
    expect(scanJson(bytes(JSON.stringify(body)), 32)).toEqual({ ok: true, scalars, containers, members });
  });

  it('stops at the first level past the limit', () => {
    expect(scanJson(bytes('{"a": [[[1]]]}'), 3)).toEqual({ ok: false, problem: 'depth' });
  });

  it('costs nested and keyed values more than flat numbers of the same size', () => {
    const flat = bytes(`[${'1,'.repeat(999)}1]`);
    const nested = bytes(`[${'[],'.repeat(999)}[]]`);
    const scanFlat = scanJson(flat, 32);
    const scanNested = scanJson(nested, 32);
    if (!scanFlat.ok || !scanNested.ok) throw new Error('scan failed');
    expect(parseCostBytes(nested.length, true, scanNested)).toBeGreaterThan(2 * parseCostBytes(flat.length, true, scanFlat));
  });
});
