"""Exports a model's dense part (embedding rows -> probabilities) to ONNX and checks it."""
from __future__ import annotations

import contextlib
import copy
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from stemnet.models.base import MultiTaskModel

OUTPUT_NAME = "probabilities"
# Scores must match PyTorch this closely; the service's contract test uses the same bound.
TOLERANCE = 1e-5


def input_name(table_file_stem: str) -> str:
    return f"emb_{table_file_stem}"


@dataclass(frozen=True)
class OnnxSignature:
    input_names: list[str]
    opset: int


class _DenseGraph(nn.Module):
    """forward_dense with one positional tensor per table, the shape ONNX export needs."""

    def __init__(self, model: MultiTaskModel):
        super().__init__()
        self.model = model
        self.table_names = [spec.name for spec in model.table_specs]

    def forward(self, *table_inputs: torch.Tensor) -> torch.Tensor:
        return self.model.forward_dense(dict(zip(self.table_names, table_inputs)))


def export_dense(model: MultiTaskModel, path: Path, opset: int) -> OnnxSignature:
    # Export a CPU copy so that training on CUDA leaves the caller's model where it was.
    graph = _DenseGraph(copy.deepcopy(model).cpu()).eval()
    specs = model.table_specs
    names = [input_name(spec.file_stem) for spec in specs]
    example = tuple(torch.zeros(3, len(spec.fields), model.embedding_dim) for spec in specs)
    batch = torch.export.Dim("batch")
    with _quiet_exporter():
        torch.onnx.export(
            graph,
            example,
            str(path),
            input_names=names,
            output_names=[OUTPUT_NAME],
            opset_version=opset,
            dynamo=True,
            verbose=False,
            external_data=False,
            # One entry for forward's *table_inputs parameter, holding one spec per table.
            dynamic_shapes=(tuple({0: batch} for _ in specs),),
        )
    written = onnx.load(str(path))
    onnx.checker.check_model(written)
    (actual_opset,) = [entry.version for entry in written.opset_import if entry.domain in ("", "ai.onnx")]
    return OnnxSignature(input_names=names, opset=actual_opset)


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silences the exporter's chatter (missing torchvision, its own deprecations); errors still raise."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (UserWarning, FutureWarning, DeprecationWarning))
            yield
    finally:
        logger.setLevel(level)


def check_against_torch(path: Path, signature: OnnxSignature, inputs: list[np.ndarray], expected: np.ndarray) -> float:
    """Runs the exported graph in ONNX Runtime; fails unless it reproduces `expected`."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (actual,) = session.run([OUTPUT_NAME], dict(zip(signature.input_names, inputs)))
    worst = float(np.max(np.abs(actual - expected))) if len(expected) else 0.0
    if worst > TOLERANCE:
        raise RuntimeError(f"{path}: ONNX Runtime differs from PyTorch by {worst:.3g} (limit {TOLERANCE})")
    return worst
