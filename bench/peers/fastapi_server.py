"""The Python peer of `npm run bench`: the digits model served the way a team would write it from the
FastAPI textbook, to compare the gateway (and Triton) with.

One uvicorn process, pydantic models for the KServe v2 / Open Inference Protocol request and response,
and a home-made micro-batcher: a background asyncio task, started by the app's lifespan, wakes every
20 ms, takes up to 16 queued requests from an asyncio.Queue, stacks their rows into one numpy batch,
runs onnxruntime once and resolves each request's future with its own rows. The design is the point:
it is what the gateway's batcher is compared against, so it is written plainly and not tuned (the
tick is a fixed sleep, not a timer armed by the first request; onnxruntime runs on the event loop
thread; a request waits for the next tick even when the queue is full). By construction it serves at
most MAX_BATCH_REQUESTS requests per tick, about 800 requests/s with one-row requests.

Usage: python fastapi_server.py --port 8123 --model model_repository/digits/2/model.onnx
(--port 0 binds a free port). Prints "peer listening on PORT" once it accepts connections.
Requirements: requirements.txt beside this file (bench/peers/fastapi-peer.ts builds the venv).
"""

import argparse
import asyncio
import contextlib
import ctypes
import os
import signal
from typing import List, Optional, Union

import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

MODEL_NAME = "digits"
MODEL_VERSION = "2"
INPUT_NAME = "pixels"
INPUT_DATATYPE = "FP32"
PIXELS_PER_ROW = 64
BATCH_INTERVAL_S = 0.020
MAX_BATCH_REQUESTS = 16

# onnxruntime's element types as the protocol names them.
ORT_TO_DATATYPE = {"tensor(float)": "FP32", "tensor(int64)": "INT64"}


class InferInputTensor(BaseModel):
    name: str
    datatype: str
    shape: List[int]
    data: List[float]


class InferRequest(BaseModel):
    id: Optional[str] = None
    inputs: List[InferInputTensor]


class InferOutputTensor(BaseModel):
    name: str
    datatype: str
    shape: List[int]
    # int first: pydantic's smart union keeps INT64 labels as ints and FP32 values as floats.
    data: List[Union[int, float]]


class InferResponse(BaseModel):
    model_name: str
    model_version: str
    id: Optional[str] = None
    outputs: List[InferOutputTensor]


async def batch_loop(queue: asyncio.Queue, session: ort.InferenceSession) -> None:
    """Every BATCH_INTERVAL_S: up to MAX_BATCH_REQUESTS queued requests, one session.run, rows handed back."""
    output_names = [output.name for output in session.get_outputs()]
    while True:
        await asyncio.sleep(BATCH_INTERVAL_S)
        pending = []
        while len(pending) < MAX_BATCH_REQUESTS and not queue.empty():
            pending.append(queue.get_nowait())
        if not pending:
            continue
        batch = np.concatenate([rows for rows, _ in pending])
        try:
            results = session.run(output_names, {INPUT_NAME: batch})
        except Exception as error:  # one failed run fails every request of the batch, not the loop
            for _, future in pending:
                if not future.done():
                    future.set_exception(error)
            continue
        offset = 0
        for rows, future in pending:
            count = rows.shape[0]
            # A client that went away has a cancelled future: nothing to hand back.
            if not future.done():
                future.set_result({name: result[offset : offset + count] for name, result in zip(output_names, results)})
            offset += count


def create_app(model_path: str) -> FastAPI:
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    datatypes = {output.name: ORT_TO_DATATYPE[output.type] for output in session.get_outputs()}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.queue = asyncio.Queue()
        batcher = asyncio.create_task(batch_loop(app.state.queue, session))
        yield
        batcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await batcher

    app = FastAPI(title="digits (FastAPI + onnxruntime)", lifespan=lifespan)

    @app.get("/v2/health/ready")
    async def ready() -> dict:
        return {"ready": True}

    @app.post(f"/v2/models/{MODEL_NAME}/infer", response_model=InferResponse)
    async def infer(request: InferRequest) -> InferResponse:
        if len(request.inputs) != 1 or request.inputs[0].name != INPUT_NAME:
            raise HTTPException(status_code=400, detail=f"expected one input named '{INPUT_NAME}'")
        tensor = request.inputs[0]
        if tensor.datatype != INPUT_DATATYPE:
            raise HTTPException(status_code=400, detail=f"input '{INPUT_NAME}' must be {INPUT_DATATYPE}, got {tensor.datatype}")
        if len(tensor.shape) != 2 or tensor.shape[1] != PIXELS_PER_ROW or tensor.shape[0] < 1:
            raise HTTPException(status_code=400, detail=f"input '{INPUT_NAME}' must have shape [N, {PIXELS_PER_ROW}], got {tensor.shape}")
        if len(tensor.data) != tensor.shape[0] * PIXELS_PER_ROW:
            raise HTTPException(status_code=400, detail=f"input '{INPUT_NAME}' has {len(tensor.data)} values for shape {tensor.shape}")

        rows = np.asarray(tensor.data, dtype=np.float32).reshape(tensor.shape)
        future = asyncio.get_running_loop().create_future()
        await app.state.queue.put((rows, future))
        try:
            outputs = await future
        except Exception as error:
            raise HTTPException(status_code=500, detail=f"inference failed: {error}")

        return InferResponse(
            model_name=MODEL_NAME,
            model_version=MODEL_VERSION,
            id=request.id,
            outputs=[
                InferOutputTensor(name=name, datatype=datatypes[name], shape=list(values.shape), data=values.reshape(-1).tolist())
                for name, values in outputs.items()
            ],
        )

    return app


class AnnouncingServer(uvicorn.Server):
    """uvicorn's Server, saying on stdout which port it bound once it accepts connections (port 0 too)."""

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            port = self.servers[0].sockets[0].getsockname()[1]
            print(f"peer listening on {port}", flush=True)


def exit_with_parent() -> None:
    """Benchmark harness hook, not part of the textbook server: SIGTERM when the process that started
    this one dies, so a crashed benchmark driver leaves no server behind (Linux prctl PR_SET_PDEATHSIG)."""
    PR_SET_PDEATHSIG = 1
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="0 for a free port")
    parser.add_argument("--model", required=True, help="path of the digits model.onnx")
    parser.add_argument("--access-log", action="store_true", help="uvicorn's line per request (off: the bench measures serving)")
    parser.add_argument("--exit-with-parent", action="store_true", help="stop when the starting process dies (Linux)")
    args = parser.parse_args()
    if args.exit_with_parent:
        exit_with_parent()
    # uvicorn picks uvloop and httptools when installed (loop/http "auto"), as its textbook setup does.
    config = uvicorn.Config(create_app(args.model), host=args.host, port=args.port, log_level="warning", access_log=args.access_log)
    AnnouncingServer(config).run()


if __name__ == "__main__":
    main()
