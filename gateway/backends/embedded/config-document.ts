// Turns a parsed text-format message into JSON by a schema (config-schema.ts), the way proto-loader
// decodes the same message with { keepCase, enums: String, longs: Number, defaults: true, oneofs: true }:
// every known field present (proto3 defaults: '', 0, false, the first enum name, [] for repeated, {} for
// maps, null for an absent sub-message), a set oneof named under the oneof's name. Fields outside the
// schema are dropped, as proto-loader drops fields outside the project's .proto subset.
import type { FieldSchema, MessageSchema, ScalarKind } from './config-schema.ts';
import type { PbtxtMessage, PbtxtScalar, PbtxtValue } from './pbtxt.ts';

export type JsonObject = { [key: string]: unknown };

export class ConfigFieldError extends Error {
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ConfigFieldError';
  }
}

const INTEGER_RANGES: Readonly<Record<Exclude<ScalarKind, 'string' | 'bool'>, readonly [number, number]>> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

const BOOL_WORDS: ReadonlyMap<string, boolean> = new Map([
  ['true', true], ['True', true], ['t', true],
  ['false', false], ['False', false], ['f', false],
]);

/** The message as proto-loader would decode it; throws ConfigFieldError naming the field at fault. */
export function messageToJson(message: PbtxtMessage, schema: MessageSchema, path = schema.name): JsonObject {
  const out: JsonObject = {};
  const oneofOf = new Map<string, string>();
  for (const [oneof, members] of Object.entries(schema.oneofs ?? {})) for (const member of members) oneofOf.set(member, oneof);
  for (const [name, field] of Object.entries(schema.fields)) {
    const values = message.fields.get(name);
    const fieldPath = `${path}.${name}`;
    if (values === undefined) {
      if (!oneofOf.has(name)) out[name] = defaultOf(field);
      continue;
    }
    if (field.repeated === true || field.kind.type === 'map') {
      out[name] = field.kind.type === 'map' ? mapToJson(values, field.kind.value, fieldPath) : values.map((v, i) => valueToJson(v, field, `${fieldPath}[${i}]`));
      continue;
    }
    if (values.length !== 1) throw new ConfigFieldError(fieldPath, `non-repeated field is specified ${values.length === 0 ? 'as an empty list' : `${values.length} times`}`);
    out[name] = valueToJson(values[0] as PbtxtValue, field, fieldPath);
    const oneof = oneofOf.get(name);
    if (oneof !== undefined) {
      if (out[oneof] !== undefined) throw new ConfigFieldError(fieldPath, `only one of ${schema.oneofs?.[oneof]?.join(', ')} may be set`);
      out[oneof] = name;
    }
  }
  return out;
}

function defaultOf(field: FieldSchema): unknown {
  if (field.repeated === true) return [];
  const kind = field.kind;
  switch (kind.type) {
    case 'scalar':
      return kind.scalar === 'string' ? '' : kind.scalar === 'bool' ? false : 0;
    case 'enum':
      return kind.values[0];
    case 'message':
      return null;
    case 'map':
      return {};
    default:
      return unreachable(kind);
  }
}

function valueToJson(value: PbtxtValue, field: FieldSchema, path: string): unknown {
  const kind = field.kind;
  switch (kind.type) {
    case 'message':
      if (value.kind !== 'message') throw new ConfigFieldError(path, `expected a message { ... }, got ${describeScalar(value)}`);
      return messageToJson(value, kind.schema, path);
    case 'enum':
      return enumToJson(value, kind.values, path);
    case 'scalar':
      if (value.kind === 'message') throw new ConfigFieldError(path, `expected a ${kind.scalar}, got a message`);
      return scalarToJson(value, kind.scalar, path);
    case 'map':
      throw new ConfigFieldError(path, 'map fields are handled by mapToJson');
    default:
      return unreachable(kind);
  }
}

function mapToJson(entries: readonly PbtxtValue[], valueSchema: MessageSchema, path: string): JsonObject {
  const out: JsonObject = {};
  entries.forEach((entry, i) => {
    const entryPath = `${path}[${i}]`;
    if (entry.kind !== 'message') throw new ConfigFieldError(entryPath, 'expected a map entry { key: ... value { ... } }');
    const keys = entry.fields.get('key');
    const values = entry.fields.get('value');
    const key = keys?.length === 1 ? keys[0] : undefined;
    if (key?.kind !== 'string') throw new ConfigFieldError(entryPath, 'a map entry needs exactly one string key');
    if (values !== undefined && values.length !== 1) throw new ConfigFieldError(entryPath, 'a map entry has at most one value');
    const value = values?.[0];
    if (value !== undefined && value.kind !== 'message') throw new ConfigFieldError(`${entryPath}.value`, 'expected a message { ... }');
    out[key.value] = messageToJson(value ?? { kind: 'message', fields: new Map() }, valueSchema, `${entryPath}.value`);
  });
  return out;
}

function enumToJson(value: PbtxtValue, names: readonly string[], path: string): string {
  if (value.kind === 'identifier' && names.includes(value.value)) return value.value;
  if (value.kind === 'number' && Number.isInteger(value.value)) {
    const name = names[value.value];
    if (name !== undefined) return name;
  }
  throw new ConfigFieldError(path, `expected one of ${names.join(', ')}, got ${describeScalar(value)}`);
}

function scalarToJson(value: PbtxtScalar, kind: ScalarKind, path: string): string | number | boolean {
  if (kind === 'string') {
    if (value.kind !== 'string') throw new ConfigFieldError(path, `expected a quoted string, got ${describeScalar(value)}`);
    return value.value;
  }
  if (kind === 'bool') {
    const word = value.kind === 'identifier' ? BOOL_WORDS.get(value.value) : value.kind === 'number' && (value.text === '0' || value.text === '1') ? value.text === '1' : undefined;
    if (word === undefined) throw new ConfigFieldError(path, `expected true or false, got ${describeScalar(value)}`);
    return word;
  }
  const [min, max] = INTEGER_RANGES[kind];
  if (value.kind !== 'number' || !Number.isInteger(value.value) || /[.eEfF]/.test(value.text.replace(/^-?0[xX].*/, ''))) {
    throw new ConfigFieldError(path, `expected an integer (${kind}), got ${describeScalar(value)}`);
  }
  if (value.value < min || value.value > max) throw new ConfigFieldError(path, `${value.text} is out of range for ${kind}`);
  return value.value;
}

function describeScalar(value: PbtxtValue): string {
  switch (value.kind) {
    case 'message':
      return 'a message';
    case 'string':
      return JSON.stringify(value.value);
    case 'number':
      return value.text;
    case 'identifier':
      return value.value;
    default:
      return unreachable(value);
  }
}

function unreachable(value: never): never {
  throw new Error(`unhandled ${String(value)}`);
}
