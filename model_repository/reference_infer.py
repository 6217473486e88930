#!/usr/bin/env python3
"""Reference inference: run a model of this repository with onnxruntime directly.

Reads one JSON request from stdin:

    {"model": "digits", "version": "1",
     "inputs": {"pixels": {"shape": [2, 64], "data": [...flat, row-major...]}},
     "outputs": ["label"]}                     # optional; default: all outputs

and prints one JSON answer on stdout:

    {"outputs": {"label": {"shape": [2], "data": [3, 7]},
                 "probabilities": {"shape": [2, 10], "data": [...]}}}

Shapes are those of the ONNX graph (model_repository/<model>/<version>/model.onnx),
not Triton's view of them: digits' label is [N] here where Triton shows [N, 1]
(config.pbtxt reshape), and every digits tensor has its batch dimension first.
"version" defaults to the highest numbered version directory.
Input data is converted to the dtype the graph declares (float32, int64, string);
output data is written as JSON floats (float32 values widened exactly to double),
ints and strings. An error prints {"error": "..."} on stdout and exits 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

REPO = Path(__file__).resolve().parent

ONNX_TO_NUMPY = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(string)": object,
    "tensor(bool)": np.bool_,
}


def model_path(model: str, version: str | None) -> Path:
    if not model or "/" in model or model.startswith("."):
        raise ValueError(f"bad model name {model!r}")
    mdir = REPO / model
    if version in (None, ""):
        versions = sorted(int(p.name) for p in mdir.iterdir() if p.is_dir() and p.name.isdigit()) \
            if mdir.is_dir() else []
        if not versions:
            raise ValueError(f"no versions of model {model!r}")
        version = str(versions[-1])
    if not str(version).isdigit():
        raise ValueError(f"bad version {version!r}")
    path = mdir / str(version) / "model.onnx"
    if not path.is_file():
        raise ValueError(f"no file {path.relative_to(REPO.parent)}")
    return path


def to_json_value(arr: np.ndarray) -> list:
    flat = arr.reshape(-1)
    if arr.dtype == object or arr.dtype.kind in "US":
        return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in flat]
    if arr.dtype.kind == "f":
        return [float(v) for v in flat]
    if arr.dtype.kind == "b":
        return [bool(v) for v in flat]
    return [int(v) for v in flat]


def infer(req: dict) -> dict:
    path = model_path(req.get("model", ""), req.get("version"))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    feeds = {}
    given = req.get("inputs", {})
    for arg in sess.get_inputs():
        if arg.name not in given:
            raise ValueError(f"missing input {arg.name!r}")
        spec = given[arg.name]
        dtype = ONNX_TO_NUMPY[arg.type]
        shape = [int(d) for d in spec["shape"]]
        data = spec["data"]
        if dtype is object:
            arr = np.array([str(v) for v in data], dtype=object)
        else:
            arr = np.array(data, dtype=dtype)
        feeds[arg.name] = arr.reshape(shape)
    extra = set(given) - set(feeds)
    if extra:
        raise ValueError(f"unknown input(s) {sorted(extra)}")

    names = req.get("outputs") or [o.name for o in sess.get_outputs()]
    results = sess.run(names, feeds)
    return {
        "outputs": {
            name: {"shape": list(res.shape), "data": to_json_value(res)}
            for name, res in zip(names, results)
        }
    }


def main() -> int:
    try:
        answer = infer(json.load(sys.stdin))
    except Exception as e:  # noqa: BLE001 - report every failure as JSON
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        return 1
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
