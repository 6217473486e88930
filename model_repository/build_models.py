#!/usr/bin/env python3
"""Build the ONNX models of this Triton model repository, deterministically.

    python3 -m venv .cache/models-venv
    .cache/models-venv/bin/pip install -r model_repository/requirements.txt
    .cache/models-venv/bin/python model_repository/build_models.py

Nothing is downloaded: scikit-learn's 8x8 digits data set ships inside the
scikit-learn package, and the text corpus is model_repository/text_topic/corpus.tsv.

Writes:
    model_repository/digits/1/model.onnx      LogisticRegression (StandardScaler in the graph)
    model_repository/digits/2/model.onnx      MLPClassifier      (StandardScaler in the graph)
    model_repository/text_topic/1/model.onnx  TfidfVectorizer + LogisticRegression, string labels

Every random_state is fixed, the train/test splits are fixed, the ONNX metadata
(graph name, producer, doc strings) is fixed, so re-running it writes
byte-identical model.onnx files with the versions pinned in requirements.txt.
It prints each model's test accuracy (computed with onnxruntime on the ONNX
file just written, and checked against scikit-learn) and exits 1 when an
accuracy is below its threshold or ONNX and scikit-learn disagree.
"""

from __future__ import annotations

import os

# Single-threaded BLAS/OpenMP: floating point results then do not depend on
# the number of cores (must be set before numpy is imported).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import csv
import hashlib
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from sklearn.datasets import load_digits
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, StringTensorType

REPO = Path(__file__).resolve().parent
# Triton takes every subdirectory of the repository for a model (a stray
# "corpus/" folder would fail to load and stop the server), so the corpus is a
# file inside the model's own directory, beside config.pbtxt.
CORPUS = REPO / "text_topic" / "corpus.tsv"

# Conservative opsets so that older ONNX Runtime builds (Triton's onnxruntime
# backend, onnxruntime-node) load the files: ai.onnx 15 -> IR version 8.
TARGET_OPSET = {"": 15, "ai.onnx.ml": 3}
IR_VERSION = 8

DIGITS_THRESHOLD = 0.90
TEXT_THRESHOLD = 0.80
SEED = 0

# Token pattern that python's re (scikit-learn) and RE2 (onnxruntime's
# Tokenizer) read the same way, so the ONNX graph tokenises exactly like
# scikit-learn. (skl2onnx would otherwise replace scikit-learn's default
# pattern "(?u)\b\w\w+\b" with "[a-zA-Z0-9_]+", which keeps 1-letter tokens
# that scikit-learn drops.)
TOKEN_PATTERN = r"[a-zA-Z0-9_]+"

failures: list[str] = []


def fail(msg: str) -> None:
    print(f"FAIL: {msg}")
    failures.append(msg)


def finalize(model: onnx.ModelProto, graph_name: str, doc: str, version: int) -> onnx.ModelProto:
    """Replace every field skl2onnx fills non-deterministically (the graph
    name is a random uuid by default) or version-dependently."""
    model.ir_version = IR_VERSION
    model.producer_name = "triton-gateway/model_repository/build_models.py"
    model.producer_version = "1"
    model.domain = "triton_gateway"
    model.model_version = version
    model.doc_string = doc
    model.graph.name = graph_name
    model.graph.doc_string = ""
    del model.metadata_props[:]
    # skl2onnx may list the same domain twice in opset_import: keep one entry
    # per domain (the highest version), in a fixed order.
    opsets: dict[str, int] = {}
    for o in model.opset_import:
        opsets[o.domain] = max(o.version, opsets.get(o.domain, 0))
    del model.opset_import[:]
    for domain in sorted(opsets):
        model.opset_import.append(onnx.helper.make_opsetid(domain, opsets[domain]))
    for node in model.graph.node:
        node.doc_string = ""
    onnx.checker.check_model(model, full_check=True)
    return model


def write(model: onnx.ModelProto, path: Path) -> bytes:
    data = model.SerializeToString(deterministic=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def session(data: bytes) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


def describe(path: Path, data: bytes, sess: ort.InferenceSession, model: onnx.ModelProto) -> None:
    rel = path.relative_to(REPO.parent)
    print(f"  file     {rel}  {len(data)} bytes  sha256 {hashlib.sha256(data).hexdigest()}")
    for kind, args in (("input ", sess.get_inputs()), ("output", sess.get_outputs())):
        for a in args:
            print(f"  {kind}   {a.name}: {a.type} {a.shape}")
    ops = sorted({(n.domain or "ai.onnx", n.op_type) for n in model.graph.node})
    print("  opsets   " + ", ".join(f"{o.domain or 'ai.onnx'}={o.version}" for o in model.opset_import))
    print("  ops      " + ", ".join(f"{d}:{t}" for d, t in ops))


def check_dynamic_first_dim(name: str, sess: ort.InferenceSession) -> None:
    for a in list(sess.get_inputs()) + list(sess.get_outputs()):
        if isinstance(a.shape[0], int):
            fail(f"{name}: first dimension of {a.name} is fixed ({a.shape})")


# --------------------------------------------------------------------------
# digits
# --------------------------------------------------------------------------

def build_digits() -> None:
    ds = load_digits()
    X = ds.data.astype(np.float32)  # raw pixel values 0..16
    y = ds.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=SEED, stratify=y
    )
    print(f"digits: {len(X_train)} train / {len(X_test)} test images, 64 float32 pixels 0..16")

    variants = {
        1: (
            "LogisticRegression",
            Pipeline([
                ("scale", StandardScaler()),
                ("clf", LogisticRegression(C=0.1, max_iter=5000, random_state=SEED)),
            ]),
        ),
        2: (
            "MLPClassifier(hidden_layer_sizes=(64,))",
            Pipeline([
                ("scale", StandardScaler()),
                ("clf", MLPClassifier(hidden_layer_sizes=(64,), alpha=1e-3, max_iter=500,
                                      random_state=SEED)),
            ]),
        ),
    }
    for version, (kind, pipe) in variants.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a ConvergenceWarning must not go unnoticed
            pipe.fit(X_train, y_train)
        onx = convert_sklearn(
            pipe,
            name=f"digits_v{version}",
            initial_types=[("pixels", FloatTensorType([None, 64]))],
            options={id(pipe.named_steps["clf"]): {"zipmap": False}},
            target_opset=TARGET_OPSET,
        )
        onx = finalize(
            onx,
            f"digits_v{version}",
            f"8x8 digits classifier v{version}: StandardScaler + {kind}. "
            "Input pixels float32 [N,64], raw values 0..16. "
            "Outputs label int64 [N], probabilities float32 [N,10] (classes 0..9).",
            version,
        )
        path = REPO / "digits" / str(version) / "model.onnx"
        data = write(onx, path)
        sess = session(data)

        label, proba = sess.run(["label", "probabilities"], {"pixels": X_test})
        acc = float((label == y_test).mean())
        sk_label = pipe.predict(X_test)
        sk_proba = pipe.predict_proba(X_test).astype(np.float32)
        print(f"digits v{version} ({kind}): test accuracy {acc:.4f} "
              f"(scikit-learn {float((sk_label == y_test).mean()):.4f})")
        describe(path, data, sess, onx)
        if acc <= DIGITS_THRESHOLD:
            fail(f"digits v{version} accuracy {acc:.4f} <= {DIGITS_THRESHOLD}")
        if not np.array_equal(label, sk_label):
            fail(f"digits v{version}: ONNX labels differ from scikit-learn")
        if not np.allclose(proba, sk_proba, atol=1e-4):
            fail(f"digits v{version}: ONNX probabilities differ from scikit-learn")
        if label.dtype != np.int64 or proba.dtype != np.float32:
            fail(f"digits v{version}: dtypes {label.dtype} {proba.dtype}")
        if list(pipe.classes_) != list(range(10)):
            fail(f"digits v{version}: classes {pipe.classes_}")
        check_dynamic_first_dim(f"digits v{version}", sess)
        for n in (1, 64):
            lab, pr = sess.run(None, {"pixels": X_test[:n]})
            if lab.shape != (n,) or pr.shape != (n, 10):
                fail(f"digits v{version}: batch {n} gave shapes {lab.shape} {pr.shape}")


# --------------------------------------------------------------------------
# text_topic
# --------------------------------------------------------------------------

def load_corpus() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with CORPUS.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            labels.append(row["label"])
            texts.append(row["text"])
    return texts, labels


def build_text_topic() -> None:
    texts, labels = load_corpus()
    t_train, t_test, y_train, y_test = train_test_split(
        texts, labels, test_size=0.25, random_state=SEED, stratify=labels
    )
    print(f"text_topic: {len(t_train)} train / {len(t_test)} test sentences, "
          f"classes {sorted(set(labels))}")

    pipe = Pipeline([
        ("tfidf", TfidfVectorizer(lowercase=True, token_pattern=TOKEN_PATTERN)),
        ("clf", LogisticRegression(C=10.0, max_iter=5000, random_state=SEED)),
    ])
    pipe.fit(t_train, y_train)
    onx = convert_sklearn(
        pipe,
        name="text_topic_v1",
        initial_types=[("text", StringTensorType([None, 1]))],
        options={
            id(pipe.named_steps["clf"]): {"zipmap": False},
            # StringNormalizer's default locale is en_US.UTF-8, which many
            # Linux images (and Triton's) may not have: ONNX Runtime then
            # fails to load the model. "C" exists everywhere, and lowercases
            # A-Z, which is all TOKEN_PATTERN keeps anyway.
            id(pipe.named_steps["tfidf"]): {"locale": "C"},
        },
        target_opset=TARGET_OPSET,
    )
    classes = [str(c) for c in pipe.classes_]
    onx = finalize(
        onx,
        "text_topic_v1",
        "English sentence topic classifier: TfidfVectorizer + LogisticRegression. "
        "Input text string [N,1]. Outputs label string [N], probabilities float32 [N,3] "
        f"(classes {', '.join(classes)}).",
        1,
    )
    path = REPO / "text_topic" / "1" / "model.onnx"
    data = write(onx, path)
    sess = session(data)

    X_test = np.array(t_test, dtype=object).reshape(-1, 1)
    label, proba = sess.run(["label", "probabilities"], {"text": X_test})
    y_arr = np.array(y_test, dtype=object)
    acc = float((label == y_arr).mean())
    sk_label = pipe.predict(t_test)
    sk_proba = pipe.predict_proba(t_test).astype(np.float32)
    print(f"text_topic v1 (TfidfVectorizer + LogisticRegression): test accuracy {acc:.4f} "
          f"(scikit-learn {float((sk_label == y_arr).mean()):.4f}); train accuracy "
          f"{float((pipe.predict(t_train) == np.array(y_train, dtype=object)).mean()):.4f}")
    describe(path, data, sess, onx)
    if classes != ["food", "sports", "technology"]:
        fail(f"text_topic: classes {classes}")
    if acc <= TEXT_THRESHOLD:
        fail(f"text_topic accuracy {acc:.4f} <= {TEXT_THRESHOLD}")
    if not np.array_equal(label.astype(str), sk_label.astype(str)):
        fail("text_topic: ONNX labels differ from scikit-learn")
    if not np.allclose(proba, sk_proba, atol=1e-4):
        fail("text_topic: ONNX probabilities differ from scikit-learn "
             f"(max abs diff {np.abs(proba - sk_proba).max()})")
    # Inputs off the corpus: case, punctuation, non-ASCII, empty, unknown words.
    odd = ["GOAL!!! The Striker SCORED.", "café résumé naïve", "", "   ", "zzz qqq xyzzy",
           "Wi-Fi router's firmware (v2.1) @home", "I baked a cake; my laptop crashed"]
    odd_label, odd_proba = sess.run(None, {"text": np.array(odd, dtype=object).reshape(-1, 1)})
    if not np.array_equal(odd_label.astype(str), pipe.predict(odd).astype(str)) or not np.allclose(
        odd_proba, pipe.predict_proba(odd), atol=1e-4
    ):
        fail("text_topic: ONNX and scikit-learn disagree on unusual inputs")
    check_dynamic_first_dim("text_topic", sess)
    for n in (1, 5):
        lab, pr = sess.run(None, {"text": X_test[:n]})
        if lab.shape != (n,) or pr.shape != (n, len(classes)):
            fail(f"text_topic: batch {n} gave shapes {lab.shape} {pr.shape}")


def main() -> int:
    print(f"numpy {np.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}")
    build_digits()
    build_text_topic()
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all models built and checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
