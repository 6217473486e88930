// Writes small ONNX models for tests that need a model shape model_repository/ does not have (a slow
// one, one with a large output), without Python: the few ModelProto fields such a graph needs, encoded
// by hand in protobuf's wire format (field numbers from onnx/onnx.proto).
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

const FLOAT = 1;
const IR_VERSION = 8;
const OPSET = 13;

/** A graph input or output: FP32, dims -1 = any size. */
export interface OnnxValue {
  readonly name: string;
  readonly dims: readonly number[];
}

export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly output: string;
}

/** An FP32 constant, every element `value`. */
export interface OnnxConstant {
  readonly name: string;
  readonly dims: readonly number[];
  readonly value: number;
}

export interface OnnxGraph {
  readonly inputs: readonly OnnxValue[];
  readonly outputs: readonly OnnxValue[];
  readonly constants: readonly OnnxConstant[];
  readonly nodes: readonly OnnxNode[];
}

function onnxModel(graph: OnnxGraph): Uint8Array {
  const body = concat([
    ...graph.nodes.map((node, i) => field(1, concat([...node.inputs.map((name) => text(1, name)), text(2, node.output), text(3, `n${i}`), text(4, node.op)]))),
    text(2, 'test_graph'),
    ...graph.constants.map((constant) => field(5, tensor(constant))),
    ...graph.inputs.map((value) => field(11, valueInfo(value))),
    ...graph.outputs.map((value) => field(12, valueInfo(value))),
  ]);
  return concat([varintField(1, IR_VERSION), field(7, body), field(8, concat([text(1, ''), varintField(2, OPSET)]))]);
}

/** Writes `<root>/<model>/config.pbtxt` and `<root>/<model>/1/model.onnx`. */
export async function writeOnnxModel(root: string, model: string, configPbtxt: string, graph: OnnxGraph): Promise<void> {
  await mkdir(join(root, model, '1'), { recursive: true });
  await writeFile(join(root, model, 'config.pbtxt'), configPbtxt);
  await writeFile(join(root, model, '1', 'model.onnx'), onnxModel(graph));
}

function tensor(constant: OnnxConstant): Uint8Array {
  const count = constant.dims.reduce((product, dim) => product * dim, 1);
  const raw = new Float32Array(count).fill(constant.value);
  return concat([...constant.dims.map((dim) => varintField(1, dim)), varintField(2, FLOAT), text(8, constant.name), field(9, new Uint8Array(raw.buffer))]);
}

function valueInfo(value: OnnxValue): Uint8Array {
  const dims = value.dims.map((dim, i) => field(1, dim === -1 ? text(2, `d${i}`) : varintField(1, dim)));
  const tensorType = concat([varintField(1, FLOAT), field(2, concat(dims))]);
  return concat([text(1, value.name), field(2, field(1, tensorType))]);
}

function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

function varintField(number: number, value: number): Uint8Array {
  return concat([varint(number << 3), varint(value)]);
}

function field(number: number, bytes: Uint8Array): Uint8Array {
  return concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
}

function text(number: number, value: string): Uint8Array {
  return field(number, new TextEncoder().encode(value));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
