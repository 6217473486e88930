// The protobuf text-format parser: the syntax config.pbtxt files use, the tricky corners, and errors
// that point at the line and column at fault.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PbtxtFieldError, PbtxtSyntaxError, parsePbtxt, pbtxtToObject } from '../../../gateway/backends/embedded/pbtxt.ts';
import { modelConfigType } from '../../../gateway/backends/model-config-document.ts';
import type { PbtxtMessage, PbtxtValue } from '../../../gateway/backends/embedded/pbtxt.ts';
import { MODEL_REPOSITORY } from './embedded-support.ts';

/** The parse tree as plain JSON: messages as objects of arrays, scalars as their values. */
function plain(value: PbtxtValue): unknown {
  switch (value.kind) {
    case 'message':
      return Object.fromEntries([...value.fields].map(([name, values]) => [name, values.map(plain)]));
    case 'number':
      return value.value;
    case 'string':
      return value.value;
    case 'identifier':
      return { enum: value.value };
  }
}

const parse = (text: string): unknown => plain(parsePbtxt(text));

function syntaxError(text: string): PbtxtSyntaxError {
  try {
    parsePbtxt(text);
  } catch (error) {
    if (error instanceof PbtxtSyntaxError) return error;
    throw error;
  }
  throw new Error(`expected a syntax error for ${JSON.stringify(text)}`);
}

describe('parsePbtxt on the repository configs', () => {
  it('parses digits/config.pbtxt: lists of messages, comments, reshape with an empty list, nested policy', () => {
    const tree = parsePbtxt(readFileSync(join(MODEL_REPOSITORY, 'digits', 'config.pbtxt'), 'utf8'));
    expect(parse(readFileSync(join(MODEL_REPOSITORY, 'digits', 'config.pbtxt'), 'utf8'))).toEqual({
      name: ['digits'],
      backend: ['onnxruntime'],
      max_batch_size: [64],
      input: [{ name: ['pixels'], data_type: [{ enum: 'TYPE_FP32' }], dims: [64] }],
      output: [
        { name: ['probabilities'], data_type: [{ enum: 'TYPE_FP32' }], dims: [10] },
        { name: ['label'], data_type: [{ enum: 'TYPE_INT64' }], dims: [1], reshape: [{ shape: [] }] },
      ],
      version_policy: [{ latest: [{ num_versions: [1] }] }],
      dynamic_batching: [{ max_queue_delay_microseconds: [100] }],
    });
    expect([...tree.fields.keys()]).toEqual(['name', 'backend', 'max_batch_size', 'input', 'output', 'version_policy', 'dynamic_batching']);
  });

  it('parses text_topic/config.pbtxt: negative dims and max_batch_size 0', () => {
    expect(parse(readFileSync(join(MODEL_REPOSITORY, 'text_topic', 'config.pbtxt'), 'utf8'))).toMatchObject({
      name: ['text_topic'],
      max_batch_size: [0],
      input: [{ name: ['text'], data_type: [{ enum: 'TYPE_STRING' }], dims: [-1, 1] }],
      output: [
        { name: ['label'], dims: [-1] },
        { name: ['probabilities'], data_type: [{ enum: 'TYPE_FP32' }], dims: [-1, 3] },
      ],
    });
  });
});

describe('parsePbtxt syntax', () => {
  it('collects a repeated field given one by one and as lists, in order', () => {
    expect(parse('dims: 1 dims: [2, 3] dims: 4 dims: []')).toEqual({ dims: [1, 2, 3, 4] });
  });

  it('takes messages with or without a colon, in { } or < >, separated by commas or semicolons', () => {
    expect(parse('a { x: 1 }, a: { x: 2 }; a < x: 3 > a: [ { x: 4 }, < x: 5 > ]')).toEqual({
      a: [{ x: [1] }, { x: [2] }, { x: [3] }, { x: [4] }, { x: [5] }],
    });
  });

  it('reads strings: both quotes, escapes, UTF-8, adjacent literals, # inside a string', () => {
    const tree = parse(String.raw`s: "tab\there \"q\" \'s\' back\\slash" s: 'single "double"' s: "\101\x42\u00e9\U0001F600" s: "ab" 'cd' "e" s: "not # a comment" s: "héllo" s: ""`);
    expect(tree).toEqual({ s: ['tab\there "q" \'s\' back\\slash', 'single "double"', 'ABé😀', 'abcde', 'not # a comment', 'héllo', ''] });
  });

  it('decodes octal and hex escapes as bytes of UTF-8', () => {
    expect(parse(String.raw`s: "\303\251\xc3\xa9"`)).toEqual({ s: ['éé'] });
  });

  it('reads numbers: negative, hex, octal, floats, exponents, f suffix; and identifiers', () => {
    expect(parse('n: -1 n: 0x1F n: 010 n: 1.5 n: -2.5e3 n: 7f n: .5 e: TYPE_FP32 e: true e: -inf e: nan')).toEqual({
      n: [-1, 31, 8, 1.5, -2500, 7, 0.5],
      e: [{ enum: 'TYPE_FP32' }, { enum: 'true' }, { enum: '-inf' }, { enum: 'nan' }],
    });
  });

  it('skips comments everywhere, including inside lists and at the end without a newline', () => {
    expect(parse('# head\n a: [ # first\n 1, # second\n 2 ] # tail\n b { # open\n } # end')).toEqual({ a: [1, 2], b: [{}] });
  });

  it('parses an empty text and an empty message', () => {
    expect(parse('')).toEqual({});
    expect(parse('  # only a comment')).toEqual({});
    expect(parse('m {}')).toEqual({ m: [{}] });
  });

  it('gives every occurrence its own message (no merging)', () => {
    const tree = parsePbtxt('input { name: "a" } input { name: "b" }');
    const inputs = tree.fields.get('input') as PbtxtMessage[];
    expect(inputs.map((input) => (input.fields.get('name')?.[0] as { value: string }).value)).toEqual(['a', 'b']);
  });
});

describe('parsePbtxt errors', () => {
  it.each([
    ['name "x"', 1, 6, /expected ':' or '\{' after field "name"/],
    ['a: "open', 1, 4, /unterminated string/],
    ['a: "line\nbreak"', 1, 4, /unterminated string/],
    ['a {\n  b: 1\n', 3, 1, /expected a field name or '\}'/],
    ['a: [1 2]', 1, 7, /expected ',' or '\]' in a list/],
    ['a: 1 }', 1, 6, /expected a field name, got '\}'/],
    ['[ext.field]: 1', 1, 1, /extension and Any fields/],
    ['a: @', 1, 4, /unexpected character "@"/],
    ['a: -x', 1, 5, /expected a number after '-'/],
    ['a: "\\q"', 1, 5, /invalid escape \\q/],
    ['a: :', 1, 4, /expected a value/],
    ['a {\n  b: }', 2, 6, /expected a value, got '\}'/],
  ])('refuses %j at %i:%i', (text, line, column, message) => {
    const error = syntaxError(text);
    expect(error.message).toMatch(message);
    expect([error.line, error.column]).toEqual([line, column]);
    expect(error.message.startsWith(`${line}:${column}: `)).toBe(true);
  });

  it('refuses messages nested absurdly deep instead of overflowing the stack', () => {
    expect(syntaxError(`${'a { '.repeat(200)}${'} '.repeat(200)}`).message).toMatch(/nest deeper than/);
  });
});

describe('pbtxtToObject: typed by ModelConfig of proto/model_config.proto', () => {
  const typed = (text: string): unknown => pbtxtToObject(parsePbtxt(text), modelConfigType());
  function fieldError(text: string): string {
    try {
      typed(text);
    } catch (error) {
      if (error instanceof PbtxtFieldError) return error.message;
      throw error;
    }
    throw new Error(`expected a field error for ${JSON.stringify(text)}`);
  }

  it('keeps what is written, in the types of the .proto: enums by name (also from numbers), integers, booleans', () => {
    expect(typed('max_batch_size: 0x10 input { name: "x" data_type: 11 dims: [ -1, 010 ] optional: t allow_ragged_batch: 1 is_shape_tensor: False }')).toEqual({
      max_batch_size: 16,
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [-1, 8], optional: true, allow_ragged_batch: true, is_shape_tensor: false }],
    });
  });

  it('reads oneofs, maps (an entry without a value holds the default message) and drops fields the .proto does not declare', () => {
    expect(
      typed('version_policy { specific { versions: [1, 3] } } parameters { key: "a" value { string_value: "1" } } parameters { key: "b" } optimization { x: 1 } constructor: 1 input { name: "x" is_non_linear_format_io: true }'),
    ).toEqual({
      version_policy: { specific: { versions: [1, 3] } },
      parameters: { a: { string_value: '1' }, b: {} },
      input: [{ name: 'x' }],
    });
  });

  it.each([
    ['a non-repeated field as an empty list', 'name: []', /ModelConfig\.name: non-repeated field is specified as an empty list/],
    ['a uint32 below 0', 'version_policy { latest { num_versions: -1 } }', /ModelConfig\.version_policy\.latest\.num_versions: -1 is out of range for uint32/],
    ['an int64 beyond the safe integers', 'input { dims: 9007199254740993 }', /ModelConfig\.input\[0\]\.dims\[0\]: 9007199254740993 is out of range for int64/],
    ['a word where a bool belongs', 'input { optional: yes }', /expected true or false, got yes/],
    ['a number where a string belongs', 'name: 5', /ModelConfig\.name: expected a quoted string, got 5/],
    ['a message where a scalar belongs', 'name { }', /ModelConfig\.name: expected a string, got a message/],
    ['a map entry without a key', 'parameters { value { } }', /ModelConfig\.parameters\[0\]: a map entry needs exactly one key/],
    ['two members of the scheduling oneof', 'dynamic_batching { } sequence_batching { }', /only one of dynamic_batching, sequence_batching, ensemble_scheduling may be set/],
  ])('refuses %s, naming the field', (_what, text, message) => {
    expect(fieldError(text)).toMatch(message);
  });
});
