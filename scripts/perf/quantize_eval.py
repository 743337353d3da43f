"""Dynamic int8 quantization of a bundle's dense network, and what it costs in accuracy.

    python scripts/perf/quantize_eval.py --bundle build/bench-bundles/stem-net \
        --test build/data/bench-paper/test.parquet --out build/quantized/model.int8.onnx

Writes the quantized graph (onnxruntime.quantization.quantize_dynamic: int8 weights, activations quantized
per batch at run time; MatMul/Gemm only) and prints per-task AUC and logloss of the FP32 and int8 graphs on
the test split, with the embedding lookup done exactly as the service does it (bundle vocabularies, OOV
row 0, manifest row offsets). Speed is measured in Java, side by side with FP32 (docs/performance.md).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
from onnxruntime.quantization import QuantType, quantize_dynamic

from stemnet.evaluate import logloss, roc_auc


def encode(bundle: Path, manifest: dict, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per ONNX input, the [N, F_table, dim] embeddings of every row of the frame."""
    indices = {}
    for field in manifest["fields"]:
        values = (bundle / field["vocabulary"]).read_text(encoding="utf-8").split("\n")
        lookup = {value: i + 1 for i, value in enumerate(v for v in values if v)}
        indices[field["name"]] = frame[field["name"]].map(lambda v: lookup.get(v, 0)).to_numpy(np.int64)
    inputs = {}
    input_of = {spec["table"]: spec["name"] for spec in manifest["onnx"]["inputs"]}
    for table in manifest["tables"]:
        rows = np.fromfile(bundle / table["file"], dtype="<f4").reshape(table["rows"], table["dim"])
        slots = np.stack([f["rowOffset"] + indices[f["name"]] for f in table["fields"]], axis=1)
        inputs[input_of[table["name"]]] = rows[slots]
    return inputs


def predict(model: Path, inputs: dict[str, np.ndarray], batch: int = 4096) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    n = next(iter(inputs.values())).shape[0]
    return np.concatenate([session.run(None, {k: v[s:s + batch] for k, v in inputs.items()})[0]
                           for s in range(0, n, batch)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    manifest = json.loads((args.bundle / "manifest.json").read_text())
    fp32 = args.bundle / manifest["onnx"]["file"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # The exported graph's value_info carries shapes ONNX shape inference disagrees with ("Inferred shape and
    # existing shape differ"), which stops quantize_dynamic; the shapes are optional, so drop them first.
    graph = onnx.load(str(fp32))
    del graph.graph.value_info[:]
    stripped = args.out.with_suffix(".fp32-noshapes.onnx")
    onnx.save(graph, str(stripped))
    quantize_dynamic(str(stripped), str(args.out), weight_type=QuantType.QInt8)

    frame = pd.read_parquet(args.test)
    inputs = encode(args.bundle, manifest, frame)
    probs = {"fp32": predict(fp32, inputs), "int8": predict(args.out, inputs)}
    print(f"{len(frame)} test rows; {fp32.stat().st_size} -> {args.out.stat().st_size} bytes")
    print("max |int8 - fp32| probability: %.5f" % np.abs(probs["int8"] - probs["fp32"]).max())
    for t, task in enumerate(manifest["tasks"]):
        labels = frame[task].to_numpy()
        line = [f"{task:<11}"]
        for name, p in probs.items():
            line.append(f"{name} auc={roc_auc(labels, p[:, t]):.5f} logloss={logloss(labels, p[:, t]):.5f}")
        line.append(f"delta auc={roc_auc(labels, probs['int8'][:, t]) - roc_auc(labels, probs['fp32'][:, t]):+.5f}")
        print("  ".join(line))


if __name__ == "__main__":
    main()
