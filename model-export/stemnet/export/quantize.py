"""Int8 dynamic quantization of a bundle's dense network, measured before it is allowed to ship.

`quantize_bundle` works on a bundle directory that holds the FP32 graph: it quantizes `model.onnx` in place
(onnxruntime.quantization.quantize_dynamic: int8 weights, activations quantized per batch at run time),
scores the test split with both graphs through ONNX Runtime the way the service does (the bundle's own
vocabularies and tables, OOV row 0, one request-sized batch at a time, one intra-op thread), refuses the
graph when a task's AUC drops by more than the configured bound, and rescores the parity fixtures with the
int8 graph, each request as one batch as the service runs it. The caller rewrites the manifest.
"""
from __future__ import annotations

import json
import logging
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd

from stemnet.encoded_data.vocab import Vocabulary
from stemnet.evaluate import logloss, roc_auc
from stemnet.export.onnx_graph import TOLERANCE
from stemnet.export.parity import candidate_values

PRECISION_FP32 = "fp32"
PRECISION_INT8 = "int8"
# The service's parity check uses this when a manifest names no tolerance (FP32 bundles written before int8).
FP32_PARITY_TOLERANCE = TOLERANCE
# Dynamic quantization scales activations per batch, so a row's score depends on the rows beside it: the test
# split is scored in batches the size of a typical request (the load test sends 50-500 candidates).
EVAL_BATCH = 200


class QuantizationRejected(ValueError):
    """The int8 graph costs more accuracy than the configured bound allows."""


@dataclass(frozen=True)
class QuantizationSettings:
    # The largest AUC drop (FP32 - int8, any task, test split) that may ship.
    max_auc_drop: float
    # The parity tolerance written to the manifest: how far the service may be from the fixtures' int8 scores.
    parity_tolerance: float


def quantize_bundle(root: Path, manifest: dict, test_frame: pd.DataFrame, settings: QuantizationSettings) -> dict:
    """Replaces root/<onnx file> with its int8 version and rewrites the parity fixtures; returns the manifest's
    `quantization` entry. Raises QuantizationRejected, leaving the FP32 graph in place, when accuracy drops."""
    model_file = root / manifest["onnx"]["file"]
    tasks = list(manifest["tasks"])
    with tempfile.TemporaryDirectory(prefix="stemnet-quantize-") as scratch:
        int8_file = Path(scratch) / "model.int8.onnx"
        _quantize(model_file, int8_file, Path(scratch))
        lookup = BundleLookup(root, manifest)
        test_inputs = lookup.inputs(_frame_values(test_frame, manifest))
        fp32_probs = predict(model_file, test_inputs)
        int8_probs = predict(int8_file, test_inputs)
        evaluation = _evaluate(test_frame, tasks, fp32_probs, int8_probs)
        drops = {t: -change for t, change in evaluation["aucChange"].items() if change is not None}
        worst_task = max(drops, key=drops.get) if drops else None
        if worst_task is not None and drops[worst_task] > settings.max_auc_drop:
            worst_drop = drops[worst_task]
            raise QuantizationRejected(
                f"int8 quantization costs {worst_drop:.5f} test AUC on task {worst_task} "
                f"(FP32 {evaluation['fp32'][worst_task]['auc']:.5f}, int8 {evaluation['int8'][worst_task]['auc']:.5f}), "
                f"more than export.max_auc_drop = {settings.max_auc_drop}; export FP32 or raise the bound"
            )
        int8_file.replace(model_file)
    _rescore_parity(root / manifest["parityFixtures"], lookup, model_file, manifest)
    return {
        "method": "onnxruntime.quantization.quantize_dynamic",
        "onnxruntimeVersion": ort.__version__,
        "weightType": "int8",
        "maxAucDrop": settings.max_auc_drop,
        "evalBatch": EVAL_BATCH,
        "testRows": int(len(test_frame)),
        "maxScoreDifference": float(np.max(np.abs(int8_probs - fp32_probs))) if len(test_frame) else 0.0,
        "test": evaluation,
    }


def _quantize(fp32_file: Path, int8_file: Path, scratch: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The exported graph's value_info carries shapes ONNX shape inference disagrees with ("Inferred shape and
    # existing shape differ in dimension 0"), which stops quantize_dynamic; they are optional, so drop them.
    graph = onnx.load(str(fp32_file))
    del graph.graph.value_info[:]
    stripped = scratch / "model.fp32-noshapes.onnx"
    onnx.save(graph, str(stripped))
    # quantize_dynamic logs a generic "consider pre-processing" warning on every call (advice for CNNs).
    root_logger = logging.getLogger()
    level = root_logger.level
    root_logger.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(stripped), str(int8_file), weight_type=QuantType.QInt8)
    finally:
        root_logger.setLevel(level)
    onnx.checker.check_model(onnx.load(str(int8_file)))


class BundleLookup:
    """Field values -> ONNX inputs from the bundle's files, as the service does it (OOV and missing: row 0)."""

    def __init__(self, root: Path, manifest: dict):
        self.manifest = manifest
        self.vocabs = {f["name"]: Vocabulary.read(root / f["vocabulary"]) for f in manifest["fields"]}
        self.tables = {
            t["name"]: np.fromfile(root / t["file"], dtype="<f4").reshape(t["rows"], t["dim"]) for t in manifest["tables"]
        }

    def inputs(self, values: dict[str, list[Optional[object]]]) -> dict[str, np.ndarray]:
        """Per ONNX input, the [N, F_table, dim] embedding rows of N candidates' field values."""
        indices = {name: vocab.encode(values[name]) for name, vocab in self.vocabs.items()}
        input_of = {spec["table"]: spec["name"] for spec in self.manifest["onnx"]["inputs"]}
        inputs = {}
        for table in self.manifest["tables"]:
            slots = np.stack([f["rowOffset"] + indices[f["name"]] for f in table["fields"]], axis=1)
            inputs[input_of[table["name"]]] = self.tables[table["name"]][slots]
        return inputs


def _frame_values(frame: pd.DataFrame, manifest: dict) -> dict[str, list]:
    return {f["name"]: frame[f["name"]].tolist() for f in manifest["fields"]}


def session(model_file: Path) -> ort.InferenceSession:
    """A session set up like the service's: CPU, one intra-op thread, every graph optimisation."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


def predict(model_file: Path, inputs: dict[str, np.ndarray], batch: int = EVAL_BATCH) -> np.ndarray:
    runner = session(model_file)
    n = next(iter(inputs.values())).shape[0]
    outputs = [runner.run(None, {k: v[s : s + batch] for k, v in inputs.items()})[0] for s in range(0, n, batch)]
    return np.concatenate(outputs) if outputs else np.zeros((0, 0), dtype=np.float32)


def _evaluate(frame: pd.DataFrame, tasks: list[str], fp32: np.ndarray, int8: np.ndarray) -> dict:
    result: dict = {"fp32": {}, "int8": {}, "aucChange": {}}
    for t, task in enumerate(tasks):
        labels = frame[task].to_numpy()
        for name, probs in (("fp32", fp32), ("int8", int8)):
            result[name][task] = {"auc": _finite(roc_auc(labels, probs[:, t])), "logloss": _finite(logloss(labels, probs[:, t]))}
        before, after = result["fp32"][task]["auc"], result["int8"][task]["auc"]
        result["aucChange"][task] = None if before is None or after is None else after - before
    return result


def _finite(value: float) -> Optional[float]:
    """JSON has no NaN: the AUC of a split without positives becomes null."""
    value = float(value)
    return value if math.isfinite(value) else None


def _rescore_parity(fixtures: Path, lookup: BundleLookup, model_file: Path, manifest: dict) -> None:
    """The fixtures' expected scores become the shipped graph's, one request per run as the service scores it."""
    schema = _FieldSides(manifest)
    runner = session(model_file)
    tasks = list(manifest["tasks"])
    lines = []
    for text in fixtures.read_text(encoding="utf-8").splitlines():
        request = json.loads(text)["request"]
        rows = candidate_values(request, schema)
        values = {f["name"]: [row[f["name"]] for row in rows] for f in manifest["fields"]}
        (probs,) = runner.run(None, lookup.inputs(values))
        wanted = request.get("tasks", tasks)
        expected = [{t: float(row[tasks.index(t)]) for t in wanted} for row in probs]
        lines.append(json.dumps({"request": request, "expected": expected}, separators=(",", ":")))
    fixtures.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


@dataclass(frozen=True)
class _Field:
    name: str
    side: str


class _FieldSides:
    """What parity.candidate_values reads of a Schema, taken from a manifest."""

    def __init__(self, manifest: dict):
        self.user_id_field = manifest["userIdField"]
        self.item_id_field = manifest["itemIdField"]
        self.fields = [_Field(f["name"], f["side"]) for f in manifest["fields"]]
        self.missing_values = "category" if "missingValue" in manifest else "oov"
