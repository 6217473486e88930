import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { DATATYPES, datatypeFromConfig, descriptorOf, elementSize, isDatatype } from '../../../gateway/tensors/datatype.ts';
import type { Datatype } from '../../../gateway/tensors/datatype.ts';

describe('datatype', () => {
  it('lists the 14 protocol datatypes', () => {
    expect(DATATYPES).toHaveLength(14);
    expect(new Set(DATATYPES).size).toBe(14);
  });

  it.each(DATATYPES)('isDatatype(%s) is true', (dt) => {
    expect(isDatatype(dt)).toBe(true);
  });

  it.each(['fp32', 'FLOAT', 'STRING', 'TYPE_FP32', '', 'toString', '__proto__'])('isDatatype(%j) is false', (s) => {
    expect(isDatatype(s)).toBe(false);
  });

  it.each<[Datatype, number | undefined]>([
    ['BOOL', 1],
    ['UINT8', 1],
    ['INT8', 1],
    ['UINT16', 2],
    ['INT16', 2],
    ['FP16', 2],
    ['BF16', 2],
    ['UINT32', 4],
    ['INT32', 4],
    ['FP32', 4],
    ['UINT64', 8],
    ['INT64', 8],
    ['FP64', 8],
    ['BYTES', undefined],
  ])('elementSize(%s) = %s', (dt, size) => {
    expect(elementSize(dt)).toBe(size);
    expect(dt !== 'BYTES').toBe(size !== undefined);
  });

  it.each<[string, Datatype]>([
    ['TYPE_BOOL', 'BOOL'],
    ['TYPE_UINT8', 'UINT8'],
    ['TYPE_UINT16', 'UINT16'],
    ['TYPE_UINT32', 'UINT32'],
    ['TYPE_UINT64', 'UINT64'],
    ['TYPE_INT8', 'INT8'],
    ['TYPE_INT16', 'INT16'],
    ['TYPE_INT32', 'INT32'],
    ['TYPE_INT64', 'INT64'],
    ['TYPE_FP16', 'FP16'],
    ['TYPE_FP32', 'FP32'],
    ['TYPE_FP64', 'FP64'],
    ['TYPE_STRING', 'BYTES'],
    ['TYPE_BF16', 'BF16'],
  ])('config name %s <-> %s', (name, dt) => {
    expect(datatypeFromConfig(name)).toBe(dt);
    expect(descriptorOf(dt).configName).toBe(name);
  });

  it.each(['TYPE_INVALID', 'TYPE_BYTES', 'FP32', 'type_fp32', ''])('datatypeFromConfig(%j) is undefined', (name) => {
    expect(datatypeFromConfig(name)).toBeUndefined();
  });

  it("names every datatype as model_config.proto's enum DataType does, and leaves none of its values out", () => {
    const root = protobuf.loadSync(new URL('../../../proto/model_config.proto', import.meta.url).pathname);
    const names = Object.keys(root.lookupEnum('inference.DataType').values).filter((name) => name !== 'TYPE_INVALID');
    expect(DATATYPES.map((dt) => descriptorOf(dt).configName).sort()).toEqual(names.sort());
  });

  it.each(DATATYPES.filter((dt) => dt !== 'BYTES'))('%s: the typed array holds elements of its size', (dt) => {
    expect(new (descriptorOf(dt).array)(new ArrayBuffer(8), 0, 1).byteLength).toBe(elementSize(dt));
  });

  it.each<['FP16' | 'FP32' | 'FP64', (x: number) => number]>([
    ['FP16', Math.f16round],
    ['FP32', Math.fround],
    ['FP64', (x) => x],
  ])('%s: max is the largest finite value and overflow the first magnitude that rounds to infinity', (dt, round) => {
    const { max, overflow } = descriptorOf(dt);
    expect(round(max)).toBe(max);
    expect(round(overflow)).toBe(Infinity);
    if (Number.isFinite(overflow)) expect(round(overflow - overflow * Number.EPSILON)).toBe(max);
  });

  it('gives integer ranges as exact bounds and text', () => {
    expect(descriptorOf('INT8').range).toEqual({ min: -128, limit: 128, text: '-128..127' });
    expect(descriptorOf('UINT64').range).toEqual({ min: 0, limit: 2 ** 64, text: '0..18446744073709551615' });
    expect(descriptorOf('INT64').range.text).toBe('-9223372036854775808..9223372036854775807');
  });

  it('names the ONNX Runtime element types, none for BF16', () => {
    expect(DATATYPES.map((dt) => descriptorOf(dt).ortType)).toEqual([
      'bool', 'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64', undefined, 'string',
    ]);
  });
});
