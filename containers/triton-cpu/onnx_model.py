"""Runs a model.onnx with the onnxruntime package inside Triton's Python backend.

The pip-installed tritonserver (PyPI's nvidia-pytriton) has Triton's Python backend but no ONNX Runtime
backend. This one file fills that gap in two ways:
- the CPU Triton image (containers/triton-cpu/Containerfile) installs it as the Python-based backend
  named "onnxruntime" (backends/onnxruntime/model.py), so that image serves model_repository/ exactly
  as written (backend: "onnxruntime"), version swaps in poll mode included;
- the test suite's "python backend twins" (test/support/real-triton/twin-repository.ts) copy it as
  model.py into each version directory of a generated repository whose configs say backend: "python".
Either way it reads the model's config (names, datatypes, dims, reshape, max_batch_size) and hands
Triton each output in the config's full shape, so clients (and the gateway) see what Triton's own
onnxruntime backend would show.

An optional twin.json in the version directory changes the behaviour, for tests of slow or broken
models: {"fail_load": true, "load_delay_ms": 2000, "infer_delay_ms": 500, "fail_on_value": 13}
(fail_on_value: a request holding that value in a numeric input gets its own error response, as a model
failing on one request's data; the other requests of the batch are served).
"""

import json
import os
import time

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils

CONFIG_TO_NUMPY = {
    "TYPE_BOOL": np.bool_,
    "TYPE_UINT8": np.uint8,
    "TYPE_UINT16": np.uint16,
    "TYPE_UINT32": np.uint32,
    "TYPE_UINT64": np.uint64,
    "TYPE_INT8": np.int8,
    "TYPE_INT16": np.int16,
    "TYPE_INT32": np.int32,
    "TYPE_INT64": np.int64,
    "TYPE_FP16": np.float16,
    "TYPE_FP32": np.float32,
    "TYPE_FP64": np.float64,
    "TYPE_STRING": np.object_,
}


def _dims(spec):
    """dims of a config input/output, after reshape when it has one."""
    reshape = spec.get("reshape")
    if reshape is not None:
        return [int(d) for d in reshape.get("shape", [])]
    return [int(d) for d in spec.get("dims", [])]


def _to_ort_strings(array):
    """Triton hands BYTES tensors over as object arrays of bytes; ONNX Runtime wants str."""
    flat = [v.decode("utf-8") if isinstance(v, (bytes, bytearray)) else str(v) for v in array.reshape(-1)]
    return np.array(flat, dtype=object).reshape(array.shape)


def _to_triton_strings(array):
    flat = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in np.asarray(array).reshape(-1)]
    return np.array(flat, dtype=np.object_).reshape(np.shape(array))


class TritonPythonModel:
    def initialize(self, args):
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        behaviour_file = os.path.join(version_dir, "twin.json")
        self.behaviour = {}
        if os.path.isfile(behaviour_file):
            with open(behaviour_file, encoding="utf-8") as f:
                self.behaviour = json.load(f)
        delay = float(self.behaviour.get("load_delay_ms", 0)) / 1000
        if delay > 0:
            time.sleep(delay)
        if self.behaviour.get("fail_load"):
            raise pb_utils.TritonModelException(f"twin of {args['model_name']} version {args['model_version']}: told to fail loading (twin.json)")

        config = json.loads(args["model_config"])
        self.max_batch_size = int(config.get("max_batch_size", 0))
        self.inputs = {spec["name"]: spec for spec in config.get("input", [])}
        self.outputs = {spec["name"]: spec for spec in config.get("output", [])}
        self.output_names = [spec["name"] for spec in config.get("output", [])]

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # The config's file name when it names an ONNX file; for Python-backend twins it names model.py.
        model_file = config.get("default_model_filename") or ""
        if not model_file.endswith(".onnx"):
            model_file = "model.onnx"
        self.session = ort.InferenceSession(os.path.join(version_dir, model_file), options, providers=["CPUExecutionProvider"])
        self.ort_string_inputs = {arg.name for arg in self.session.get_inputs() if arg.type == "tensor(string)"}

    def execute(self, requests):
        delay = float(self.behaviour.get("infer_delay_ms", 0)) / 1000
        if delay > 0:
            time.sleep(delay)
        responses = []
        for request in requests:
            try:
                responses.append(self._infer(request))
            except Exception as error:  # noqa: BLE001 - every failure goes back to the client as Triton's error
                responses.append(pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError(f"{type(error).__name__}: {error}")))
        return responses

    def _infer(self, request):
        fail_on = self.behaviour.get("fail_on_value")
        feeds = {}
        batch = None
        for name, spec in self.inputs.items():
            tensor = pb_utils.get_input_tensor_by_name(request, name)
            if tensor is None:
                continue  # an optional input the client left out
            array = tensor.as_numpy()
            if self.max_batch_size > 0:
                batch = array.shape[0]
                if spec.get("reshape") is not None:
                    array = array.reshape([batch] + _dims(spec))
            elif spec.get("reshape") is not None:
                array = array.reshape(_dims(spec))
            if fail_on is not None and array.dtype != np.object_ and np.any(array == fail_on):
                raise ValueError(f"input '{name}' holds {fail_on}: the twin is told to fail on it (twin.json)")
            feeds[name] = _to_ort_strings(array) if name in self.ort_string_inputs else array

        names = list(request.requested_output_names()) or self.output_names
        results = self.session.run(names, feeds)
        tensors = []
        for name, result in zip(names, results):
            spec = self.outputs[name]
            shape = ([batch] if self.max_batch_size > 0 else []) + [int(d) for d in spec.get("dims", [])]
            result = np.asarray(result)
            matches = result.ndim == len(shape) and all(d == -1 or d == r for d, r in zip(shape, result.shape))
            if not matches:
                result = result.reshape(shape)  # e.g. ONNX [N] -> config dims [1] with reshape [] -> [N, 1]
            dtype = CONFIG_TO_NUMPY[spec["data_type"]]
            result = _to_triton_strings(result) if dtype is np.object_ else result.astype(dtype, copy=False)
            tensors.append(pb_utils.Tensor(name, result))
        return pb_utils.InferenceResponse(output_tensors=tensors)

    def finalize(self):
        self.session = None
