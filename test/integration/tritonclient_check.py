"""Triton's own Python HTTP client (tritonclient.http) against the GATEWAY, with the client's defaults.

Run by tritonclient.test.ts with the Triton test venv's python. Reads on stdin:
    {"url": "127.0.0.1:PORT", "images": [[64 floats], ...], "texts": ["...", ...]}
and prints on stdout one JSON object with what the client got back (tensors as dtype, shape and
values), so the TypeScript test compares them with onnxruntime's reference. Every check runs on its
own: an exception is recorded under "errors" with its traceback and the other checks still run.
"""

import asyncio
import json
import sys
import traceback

import numpy as np
import tritonclient.http as httpclient
import tritonclient.http.aio as aioclient
from tritonclient.utils import InferenceServerException


def tensor(result, name):
    """An output as the client hands it over: numpy dtype, shape and values (BYTES decoded as UTF-8)."""
    array = result.as_numpy(name)
    if array is None:
        return None
    if array.dtype == np.object_:
        values = [v.decode("utf-8") if isinstance(v, bytes) else v for v in array.reshape(-1).tolist()]
        kinds = sorted({type(v).__name__ for v in array.reshape(-1).tolist()})
        return {"dtype": "object", "element_types": kinds, "shape": list(array.shape), "data": values}
    return {"dtype": str(array.dtype), "shape": list(array.shape), "data": array.reshape(-1).tolist()}


def header(result):
    """The JSON part of the answer, without the outputs' values."""
    response = result.get_response()
    return {
        "model_name": response.get("model_name"),
        "model_version": response.get("model_version"),
        "id": response.get("id"),
        "outputs": [{k: v for k, v in o.items() if k != "data"} for o in response.get("outputs", [])],
    }


def digits_inputs(images, binary):
    pixels = np.array(images, dtype=np.float32)
    inp = httpclient.InferInput("pixels", list(pixels.shape), "FP32")
    inp.set_data_from_numpy(pixels, binary_data=binary)
    return [inp]


def text_inputs(texts, module, binary):
    text = np.array(texts, dtype=np.object_).reshape(len(texts), 1)
    inp = module.InferInput("text", list(text.shape), "BYTES")
    inp.set_data_from_numpy(text, binary_data=binary)
    return [inp]


def main():
    spec = json.load(sys.stdin)
    url, images, texts = spec["url"], spec["images"], spec["texts"]
    summary = {"tritonclient_version": None, "errors": {}}
    try:
        import tritonclient

        summary["tritonclient_version"] = getattr(tritonclient, "__version__", None)
    except Exception:  # noqa: BLE001 - only informative
        pass

    client = httpclient.InferenceServerClient(url=url)

    def check(name, work):
        try:
            summary[name] = work()
        except Exception:  # noqa: BLE001 - every failure is reported, none stops the others
            summary["errors"][name] = traceback.format_exc()

    check("is_server_live", client.is_server_live)
    check("is_server_ready", client.is_server_ready)
    check("is_model_ready_digits", lambda: client.is_model_ready("digits"))
    check("is_model_ready_unknown", lambda: client.is_model_ready("no_such_model"))
    check("server_metadata", client.get_server_metadata)
    check("model_metadata_digits", lambda: client.get_model_metadata("digits"))
    check("model_config_digits", lambda: client.get_model_config("digits"))
    check("model_metadata_text_topic", lambda: client.get_model_metadata("text_topic"))

    # The defaults: inputs as binary (set_data_from_numpy), outputs binary (InferRequestedOutput).
    def digits_binary():
        outputs = [httpclient.InferRequestedOutput("probabilities"), httpclient.InferRequestedOutput("label")]
        result = client.infer("digits", digits_inputs(images, True), outputs=outputs, request_id="tc-digits")
        return {"header": header(result), "probabilities": tensor(result, "probabilities"), "label": tensor(result, "label")}

    def digits_all_outputs():
        # No outputs named: every output, as binary (the client asks binary_data_output).
        result = client.infer("digits", digits_inputs(images[:3], True))
        return {"header": header(result), "probabilities": tensor(result, "probabilities"), "label": tensor(result, "label")}

    def text_binary():
        outputs = [httpclient.InferRequestedOutput("label"), httpclient.InferRequestedOutput("probabilities")]
        result = client.infer("text_topic", text_inputs(texts, httpclient, True), outputs=outputs, request_id="tc-text")
        return {"header": header(result), "label": tensor(result, "label"), "probabilities": tensor(result, "probabilities")}

    # The async API with JSON tensors both ways (binary_data=False).
    def digits_json_async():
        outputs = [
            httpclient.InferRequestedOutput("probabilities", binary_data=False),
            httpclient.InferRequestedOutput("label", binary_data=False),
        ]
        pending = client.async_infer("digits", digits_inputs(images, False), outputs=outputs, request_id="tc-async")
        result = pending.get_result()
        return {"header": header(result), "probabilities": tensor(result, "probabilities"), "label": tensor(result, "label")}

    # asyncio client (tritonclient.http.aio), JSON tensors, BYTES.
    def text_json_aio():
        async def run():
            aio = aioclient.InferenceServerClient(url=url)
            try:
                ready = await aio.is_model_ready("text_topic")
                outputs = [
                    aioclient.InferRequestedOutput("label", binary_data=False),
                    aioclient.InferRequestedOutput("probabilities", binary_data=False),
                ]
                result = await aio.infer("text_topic", text_inputs(texts, aioclient, False), outputs=outputs, request_id="tc-aio")
                return {"model_ready": ready, "header": header(result), "label": tensor(result, "label"), "probabilities": tensor(result, "probabilities")}
            finally:
                await aio.close()

        return asyncio.run(run())

    # A request the gateway refuses: the client must surface the gateway's status and message.
    def bad_shape():
        pixels = np.zeros((1, 63), dtype=np.float32)
        inp = httpclient.InferInput("pixels", [1, 63], "FP32")
        inp.set_data_from_numpy(pixels)
        try:
            client.infer("digits", [inp])
        except InferenceServerException as error:
            return {"status": error.status(), "message": error.message()}
        return {"status": None, "message": "no error raised"}

    check("digits_binary", digits_binary)
    check("digits_all_outputs", digits_all_outputs)
    check("text_binary", text_binary)
    check("digits_json_async", digits_json_async)
    check("text_json_aio", text_json_aio)
    check("bad_shape", bad_shape)
    client.close()
    json.dump(summary, sys.stdout)


if __name__ == "__main__":
    main()
