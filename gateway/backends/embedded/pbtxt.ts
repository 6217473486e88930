// Protobuf TEXT format (what config.pbtxt is written in), read in two steps. parsePbtxt reads the syntax
// without a schema: every field with all of its occurrences, in order. pbtxtToObject then types it by a
// message type of protobufjs reflection (the project's own .proto): repeated or not, enum or string,
// integer ranges, oneofs, maps, into an object that Type.fromObject takes. Supports messages in `{ }` or
// `< >` with an optional `:` before them, lists `[ a, b ]` of scalars or messages, quoted strings with C
// escapes (adjacent strings concatenate), decimal/hex/octal/float numbers, identifiers (enum values,
// true/false, inf/nan), `#` comments and optional `,` / `;` after a field. Extensions and Any URLs
// (`[a.b]`) are refused.
import { Buffer } from 'node:buffer';
import protobuf from 'protobufjs';
import type { FieldBase, MapField, Type } from 'protobufjs';

export type PbtxtScalar =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number; readonly text: string }
  | { readonly kind: 'identifier'; readonly value: string };

export interface PbtxtMessage {
  readonly kind: 'message';
  /** Field name -> every value given for it, in order (a list contributes each of its elements). */
  readonly fields: ReadonlyMap<string, readonly PbtxtValue[]>;
}

export type PbtxtValue = PbtxtScalar | PbtxtMessage;

export class PbtxtSyntaxError extends Error {
  readonly line: number;
  readonly column: number;

  constructor(message: string, line: number, column: number) {
    super(`${line}:${column}: ${message}`);
    this.name = 'PbtxtSyntaxError';
    this.line = line;
    this.column = column;
  }
}

type Token =
  | { readonly type: 'punct'; readonly text: string; readonly offset: number }
  | { readonly type: 'identifier'; readonly text: string; readonly offset: number }
  | { readonly type: 'number'; readonly text: string; readonly offset: number }
  | { readonly type: 'string'; readonly text: string; readonly value: string; readonly offset: number }
  | { readonly type: 'end'; readonly text: ''; readonly offset: number };

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /(?:0[xX][0-9A-Fa-f]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fF]?)(?![A-Za-z0-9_])/y;
const PUNCTUATION = new Set(['{', '}', '<', '>', '[', ']', ':', ',', ';', '-']);
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63,
};
const MAX_NESTING = 100;

/** Parses a whole text-format message. Throws PbtxtSyntaxError (with line and column) on bad input. */
export function parsePbtxt(text: string): PbtxtMessage {
  const parser = new Parser(text);
  const message = parser.message('end', 0);
  return message;
}

class Parser {
  readonly #text: string;
  #offset = 0;
  #peeked: Token | undefined;

  constructor(text: string) {
    this.#text = text;
  }

  message(close: 'end' | '}' | '>', depth: number): PbtxtMessage {
    if (depth > MAX_NESTING) this.#fail(`messages nest deeper than ${MAX_NESTING}`, this.#peek().offset);
    const fields = new Map<string, PbtxtValue[]>();
    for (;;) {
      const token = this.#next();
      if (close === 'end' ? token.type === 'end' : token.type === 'punct' && token.text === close) break;
      if (token.type === 'punct' && token.text === '[') this.#fail('extension and Any fields ([...]) are not supported', token.offset);
      if (token.type !== 'identifier') this.#fail(`expected a field name${close === 'end' ? '' : ` or '${close}'`}, got ${describe(token)}`, token.offset);
      const values = fields.get(token.text) ?? [];
      fields.set(token.text, values);
      this.#fieldValue(token.text, values, depth);
      const separator = this.#peek();
      if (separator.type === 'punct' && (separator.text === ',' || separator.text === ';')) this.#next();
    }
    return { kind: 'message', fields };
  }

  #fieldValue(name: string, values: PbtxtValue[], depth: number): void {
    let token = this.#next();
    const colon = token.type === 'punct' && token.text === ':';
    if (colon) token = this.#next();
    if (token.type === 'punct' && (token.text === '{' || token.text === '<')) {
      values.push(this.message(token.text === '{' ? '}' : '>', depth + 1));
    } else if (token.type === 'punct' && token.text === '[') {
      this.#list(values, depth);
    } else if (!colon) {
      this.#fail(`expected ':' or '{' after field "${name}", got ${describe(token)}`, token.offset);
    } else {
      values.push(this.#scalar(token));
    }
  }

  #list(values: PbtxtValue[], depth: number): void {
    const first = this.#peek();
    if (first.type === 'punct' && first.text === ']') {
      this.#next();
      return;
    }
    for (;;) {
      const token = this.#next();
      if (token.type === 'punct' && (token.text === '{' || token.text === '<')) values.push(this.message(token.text === '{' ? '}' : '>', depth + 1));
      else values.push(this.#scalar(token));
      const after = this.#next();
      if (after.type === 'punct' && after.text === ']') return;
      if (after.type !== 'punct' || after.text !== ',') this.#fail(`expected ',' or ']' in a list, got ${describe(after)}`, after.offset);
    }
  }

  #scalar(token: Token): PbtxtScalar {
    if (token.type === 'string') {
      let value = token.value;
      // Adjacent string literals concatenate, as in C.
      for (let next = this.#peek(); next.type === 'string'; next = this.#peek()) value += (this.#next() as typeof next).value;
      return { kind: 'string', value };
    }
    if (token.type === 'number') return { kind: 'number', value: numberValue(token.text), text: token.text };
    if (token.type === 'identifier') return { kind: 'identifier', value: token.text };
    if (token.type === 'punct' && token.text === '-') {
      const operand = this.#next();
      if (operand.type === 'number') return { kind: 'number', value: -numberValue(operand.text), text: `-${operand.text}` };
      if (operand.type === 'identifier' && /^(inf|infinity|nan)$/i.test(operand.text)) return { kind: 'identifier', value: `-${operand.text}` };
      this.#fail(`expected a number after '-', got ${describe(operand)}`, operand.offset);
    }
    return this.#fail(`expected a value, got ${describe(token)}`, token.offset);
  }

  #peek(): Token {
    this.#peeked ??= this.#read();
    return this.#peeked;
  }

  #next(): Token {
    const token = this.#peek();
    this.#peeked = undefined;
    return token;
  }

  #read(): Token {
    const text = this.#text;
    // Whitespace and comments.
    for (;;) {
      while (this.#offset < text.length && /\s/.test(text[this.#offset] ?? '')) this.#offset++;
      if (text[this.#offset] !== '#') break;
      while (this.#offset < text.length && text[this.#offset] !== '\n') this.#offset++;
    }
    const offset = this.#offset;
    const char = text[offset];
    if (char === undefined) return { type: 'end', text: '', offset };
    if (char === '"' || char === "'") return this.#string(char, offset);
    if (PUNCTUATION.has(char)) {
      this.#offset++;
      return { type: 'punct', text: char, offset };
    }
    const number = matchAt(NUMBER, text, offset);
    if (number !== undefined) {
      this.#offset += number.length;
      return { type: 'number', text: number, offset };
    }
    const identifier = matchAt(IDENTIFIER, text, offset);
    if (identifier !== undefined) {
      this.#offset += identifier.length;
      return { type: 'identifier', text: identifier, offset };
    }
    return this.#fail(`unexpected character ${JSON.stringify(char)}`, offset);
  }

  #string(quote: string, offset: number): Token {
    const text = this.#text;
    const bytes: number[] = [];
    let i = offset + 1;
    for (;;) {
      const char = text[i];
      if (char === undefined || char === '\n') this.#fail('unterminated string', offset);
      if (char === quote) break;
      if (char !== '\\') {
        const codePoint = text.codePointAt(i) ?? 0;
        const width = codePoint > 0xffff ? 2 : 1;
        bytes.push(...Buffer.from(text.slice(i, i + width), 'utf8'));
        i += width;
        continue;
      }
      i = this.#escape(i + 1, bytes);
    }
    this.#offset = i + 1;
    return { type: 'string', text: text.slice(offset, i + 1), value: Buffer.from(bytes).toString('utf8'), offset };
  }

  /** Appends the bytes of the escape starting at `i` (just after the backslash); returns the next index. */
  #escape(i: number, bytes: number[]): number {
    const text = this.#text;
    const char = text[i] ?? '';
    const simple = SIMPLE_ESCAPES[char];
    if (simple !== undefined) {
      bytes.push(simple);
      return i + 1;
    }
    const octal = /^[0-7]{1,3}/.exec(text.slice(i, i + 3));
    if (octal !== null) {
      bytes.push(Number.parseInt(octal[0], 8) & 0xff);
      return i + octal[0].length;
    }
    const hex = char === 'x' || char === 'X' ? /^[0-9A-Fa-f]{1,2}/.exec(text.slice(i + 1, i + 3)) : null;
    if (hex !== null) {
      bytes.push(Number.parseInt(hex[0], 16));
      return i + 1 + hex[0].length;
    }
    const unicode = char === 'u' ? /^[0-9A-Fa-f]{4}/.exec(text.slice(i + 1, i + 5)) : char === 'U' ? /^[0-9A-Fa-f]{8}/.exec(text.slice(i + 1, i + 9)) : null;
    if (unicode !== null) {
      const codePoint = Number.parseInt(unicode[0], 16);
      if (codePoint > 0x10ffff) this.#fail(`escape \\${char}${unicode[0]} is not a Unicode code point`, i - 1);
      bytes.push(...Buffer.from(String.fromCodePoint(codePoint), 'utf8'));
      return i + 1 + unicode[0].length;
    }
    return this.#fail(`invalid escape \\${char}`, i - 1);
  }

  #fail(message: string, offset: number): never {
    const before = this.#text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    throw new PbtxtSyntaxError(message, line, column);
  }
}

function matchAt(pattern: RegExp, text: string, offset: number): string | undefined {
  pattern.lastIndex = offset;
  return pattern.exec(text)?.[0];
}

function numberValue(text: string): number {
  if (/^0[xX]/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^0[0-7]+$/.test(text)) return Number.parseInt(text, 8);
  return Number.parseFloat(text.replace(/[fF]$/, ''));
}

function describe(token: Token): string {
  return token.type === 'end' ? 'the end of the text' : `'${token.text}'`;
}

// ---- Typing by a message type ----

export class PbtxtFieldError extends Error {
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'PbtxtFieldError';
  }
}

/** The range of each integer type of protobuf that JS numbers hold exactly (64-bit ones: the safe integers). */
const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = (() => {
  const int32 = [-(2 ** 31), 2 ** 31 - 1] as const;
  const uint32 = [0, 2 ** 32 - 1] as const;
  const int64 = [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] as const;
  const uint64 = [0, Number.MAX_SAFE_INTEGER] as const;
  return { int32, sint32: int32, sfixed32: int32, uint32, fixed32: uint32, int64, sint64: int64, sfixed64: int64, uint64, fixed64: uint64 };
})();

const BOOL_WORDS: ReadonlyMap<string, boolean> = new Map([
  ['true', true], ['True', true], ['t', true],
  ['false', false], ['False', false], ['f', false],
]);

const FLOAT_WORDS: ReadonlyMap<string, number> = new Map([
  ['inf', Infinity], ['infinity', Infinity], ['-inf', -Infinity], ['-infinity', -Infinity], ['nan', NaN], ['-nan', NaN],
]);

/**
 * `message` typed by `type`, as an object `type.fromObject` takes (enums by name, integers as numbers).
 * Fields `type` does not declare are dropped, as a decoder drops unknown fields. Throws PbtxtFieldError
 * naming the field at fault (`ModelConfig.input[0].dims`).
 */
export function pbtxtToObject(message: PbtxtMessage, type: Type, path = type.name): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const chosen = new Set<string>();
  for (const [name, values] of message.fields) {
    // Own fields only: a field named `constructor` is unknown, not Object's.
    const field = Object.hasOwn(type.fields, name) ? type.fields[name] : undefined;
    if (field === undefined) continue;
    const fieldPath = `${path}.${name}`;
    if (field instanceof protobuf.MapField) {
      out[name] = mapToObject(values, field, fieldPath);
      continue;
    }
    if (field.repeated) {
      out[name] = values.map((value, i) => valueToObject(value, field, `${fieldPath}[${i}]`));
      continue;
    }
    if (values.length !== 1) throw new PbtxtFieldError(fieldPath, `non-repeated field is specified ${values.length === 0 ? 'as an empty list' : `${values.length} times`}`);
    out[name] = valueToObject(values[0] as PbtxtValue, field, fieldPath);
    const oneof = field.partOf;
    if (oneof !== null) {
      if (chosen.has(oneof.name)) throw new PbtxtFieldError(fieldPath, `only one of ${oneof.oneof.join(', ')} may be set`);
      chosen.add(oneof.name);
    }
  }
  return out;
}

/** A map field, written in text format as repeated `{ key: ... value ... }` entries. */
function mapToObject(entries: readonly PbtxtValue[], field: MapField, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  entries.forEach((entry, i) => {
    const entryPath = `${path}[${i}]`;
    if (entry.kind !== 'message') throw new PbtxtFieldError(entryPath, 'expected a map entry { key: ... value ... }');
    const keys = entry.fields.get('key');
    const values = entry.fields.get('value');
    if (keys?.length !== 1) throw new PbtxtFieldError(entryPath, 'a map entry needs exactly one key');
    if (values !== undefined && values.length !== 1) throw new PbtxtFieldError(entryPath, 'a map entry has at most one value');
    const key = scalarToObject(keys[0] as PbtxtValue, field.keyType, `${entryPath}.key`);
    const value = values?.[0];
    // An entry without a value holds the value type's default: an empty message, 0, '', the first enum value.
    if (value !== undefined) out[String(key)] = valueToObject(value, field, `${entryPath}.value`);
    else out[String(key)] = field.resolvedType instanceof protobuf.Type ? {} : field.typeDefault;
  });
  return out;
}

function valueToObject(value: PbtxtValue, field: FieldBase, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    if (value.kind !== 'message') throw new PbtxtFieldError(path, `expected a message { ... }, got ${describeValue(value)}`);
    return pbtxtToObject(value, resolved, path);
  }
  if (resolved instanceof protobuf.Enum) {
    const names = Object.keys(resolved.values);
    if (value.kind === 'identifier' && names.includes(value.value)) return value.value;
    const named = value.kind === 'number' && Number.isInteger(value.value) ? resolved.valuesById[value.value] : undefined;
    if (named !== undefined) return named;
    throw new PbtxtFieldError(path, `expected one of ${names.join(', ')}, got ${describeValue(value)}`);
  }
  return scalarToObject(value, field.type, path);
}

function scalarToObject(value: PbtxtValue, type: string, path: string): string | number | boolean {
  if (value.kind === 'message') throw new PbtxtFieldError(path, `expected a ${type}, got a message`);
  if (type === 'string') {
    if (value.kind !== 'string') throw new PbtxtFieldError(path, `expected a quoted string, got ${describeValue(value)}`);
    return value.value;
  }
  if (type === 'bool') {
    const word = value.kind === 'identifier' ? BOOL_WORDS.get(value.value) : value.kind === 'number' && (value.text === '0' || value.text === '1') ? value.text === '1' : undefined;
    if (word === undefined) throw new PbtxtFieldError(path, `expected true or false, got ${describeValue(value)}`);
    return word;
  }
  if (type === 'float' || type === 'double') {
    const number = value.kind === 'number' ? value.value : value.kind === 'identifier' ? FLOAT_WORDS.get(value.value.toLowerCase()) : undefined;
    if (number === undefined) throw new PbtxtFieldError(path, `expected a number (${type}), got ${describeValue(value)}`);
    return number;
  }
  const range = INTEGER_RANGES[type];
  if (range === undefined) throw new PbtxtFieldError(path, `fields of type ${type} are not read from text format`);
  if (value.kind !== 'number' || !Number.isInteger(value.value) || /[.eEfF]/.test(value.text.replace(/^-?0[xX].*/, ''))) {
    throw new PbtxtFieldError(path, `expected an integer (${type}), got ${describeValue(value)}`);
  }
  if (value.value < range[0] || value.value > range[1]) throw new PbtxtFieldError(path, `${value.text} is out of range for ${type}`);
  return value.value;
}

function describeValue(value: PbtxtValue): string {
  if (value.kind === 'message') return 'a message';
  return value.kind === 'string' ? JSON.stringify(value.value) : value.kind === 'number' ? value.text : value.value;
}
