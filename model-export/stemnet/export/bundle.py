"""Writes a scoring bundle as specified in docs/bundle-format.md.

The bundle is assembled in a temporary sibling directory and renamed into place, so a reader
never sees a half-written bundle.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import torch

from stemnet.config import Config, ConfigError, ExportConfig
from stemnet.evaluate import json_safe
from stemnet.raw_data.schema import MISSING_VALUE
from stemnet.export.checksums import checksums, mismatched
from stemnet.export.onnx_graph import OUTPUT_NAME, OnnxSignature, check_against_torch, export_dense
from stemnet.export.parity import build_requests, encode_requests, fixture_lines
from stemnet.export.quantize import (
    FP32_PARITY_TOLERANCE,
    PRECISION_FP32,
    PRECISION_INT8,
    QuantizationSettings,
    quantize_bundle,
)
from stemnet.models.base import MultiTaskModel
from stemnet.train import TrainingResult

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MODEL_FILE = "model.onnx"
PARITY_FILE = "parity.jsonl"
# The service refuses a looser parity tolerance: beyond it a wrongly exported graph could pass its warm-up.
def write_bundle(out_dir: Path, result: TrainingResult, config: Config) -> Path:
    """Raises QuantizationRejected (nothing written) when export.quantization is int8 and costs too much AUC."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the bundle from a service running as another user
    try:
        _write_contents(staging, result, config)
        _move_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def quantize_existing(source: Path, out_dir: Path, test_frame: pd.DataFrame, settings: QuantizationSettings,
                      model_name: Optional[str] = None) -> dict:
    """Writes an int8 copy of the FP32 bundle `source` to `out_dir` (a new version); returns its manifest."""
    source, out_dir = Path(source), Path(out_dir)
    manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    precision = manifest["onnx"].get("precision", PRECISION_FP32)
    if precision != PRECISION_FP32:
        raise ConfigError(f"{source}: the bundle's graph is {precision}; quantize an FP32 bundle")
    _verify_checksums(source, manifest)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(0o755)
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(MANIFEST))
        manifest["model"]["version"] = _new_version()
        if model_name:
            manifest["model"]["name"] = model_name
        manifest.pop("files", None)
        _ship_int8(staging, manifest, test_frame, settings)
        write_manifest(staging, manifest)
        _move_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _verify_checksums(root: Path, manifest: dict) -> None:
    differ = mismatched(root, MANIFEST, manifest.get("files", {}))
    if differ:
        raise ConfigError(f"{root}: files do not match the manifest's checksums: {differ[:5]}")


def _new_version() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _move_into_place(staging: Path, out_dir: Path) -> None:
    # A non-empty directory cannot be replaced atomically; move the old one aside first so the
    # target is at any moment either the old complete bundle, absent, or the new complete one.
    retired = staging.with_name(staging.name + ".old")
    if out_dir.exists():
        out_dir.rename(retired)
    staging.rename(out_dir)
    shutil.rmtree(retired, ignore_errors=True)


def _write_contents(root: Path, result: TrainingResult, config: Config) -> None:
    model = result.model.eval()
    (root / "vocab").mkdir()
    (root / "tables").mkdir()
    for name, vocab in result.vocabs.items():
        vocab.write(root / _vocab_file(name))
    for spec in model.table_specs:
        model.embeddings.weight(spec).detach().cpu().numpy().astype("<f4").tofile(root / _table_file(spec.file_stem))
    signature = export_dense(model, root / MODEL_FILE, config.export.opset)
    _write_parity(root, result, config, signature)
    manifest = _manifest(result, config, signature)
    if config.export.quantization == PRECISION_INT8:
        settings = QuantizationSettings(config.export.max_auc_drop, config.export.int8_parity_tolerance)
        _ship_int8(root, manifest, result.test_frame, settings)
    write_manifest(root, manifest)


def _ship_int8(root: Path, manifest: dict, test_frame: pd.DataFrame, settings: QuantizationSettings) -> None:
    """Replaces the FP32 graph and fixtures in `root` by int8 ones and says so in `manifest` (checksums aside)."""
    manifest["quantization"] = quantize_bundle(root, manifest, test_frame, settings)
    manifest["onnx"]["precision"] = PRECISION_INT8
    manifest["parityTolerance"] = settings.parity_tolerance


def write_manifest(root: Path, manifest: dict) -> None:
    """Writes manifest.json with the checksums of every other file as they are now."""
    manifest["files"] = checksums(root, MANIFEST)
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _write_parity(root: Path, result: TrainingResult, config: Config, signature: OnnxSignature) -> None:
    """Scores the fixtures in PyTorch, insists ONNX Runtime agrees, then writes them."""
    requests = build_requests(
        result.test_frame, result.schema, config.export.parity_requests, config.export.max_candidates, config.train.seed
    )
    ids = torch.from_numpy(encode_requests(requests, result.schema, result.vocabs))
    table_inputs, probs = _score(result.model, ids)
    check_against_torch(root / MODEL_FILE, signature, table_inputs, probs)
    lines = fixture_lines(requests, probs, result.model.tasks)
    with open(root / PARITY_FILE, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, separators=(",", ":")) + "\n")


@torch.no_grad()
def _score(model: MultiTaskModel, ids: torch.Tensor) -> tuple[list[np.ndarray], np.ndarray]:
    device = next(model.parameters()).device
    table_inputs = model.embeddings(ids.to(device))
    probs = model.forward_dense(table_inputs)
    return [t.cpu().numpy() for t in table_inputs.values()], probs.cpu().numpy()


def _manifest(result: TrainingResult, config: Config, signature: OnnxSignature) -> dict:
    """Everything but the checksums, which write_manifest adds once the files are final."""
    model, schema = result.model, result.schema
    dim = model.embedding_dim
    return {
        "formatVersion": FORMAT_VERSION,
        "model": {
            "name": config.export.model_name,
            "version": _new_version(),
            "architecture": config.model.architecture,
            "hyperparameters": _hyperparameters(config, result),
        },
        "tasks": list(model.tasks),
        "embeddingDim": dim,
        "minCount": config.train.min_count,
        "userIdField": schema.user_id_field,
        "itemIdField": schema.item_id_field,
        **({"missingValue": MISSING_VALUE} if schema.missing_values == "category" else {}),
        "fields": [
            {"name": f.name, "side": f.side, "vocabulary": _vocab_file(f.name), "vocabSize": result.vocabs[f.name].size}
            for f in schema.fields
        ],
        "tables": [
            {
                "name": spec.name,
                "file": _table_file(spec.file_stem),
                "rows": spec.rows,
                "dim": dim,
                "fields": [{"name": f, "rowOffset": o} for f, o in zip(spec.fields, spec.row_offsets)],
            }
            for spec in model.table_specs
        ],
        "onnx": {
            "file": MODEL_FILE,
            "opset": signature.opset,
            "inputs": [
                {"name": name, "table": spec.name, "dtype": "float32", "shape": ["batch", len(spec.fields), dim]}
                for name, spec in zip(signature.input_names, model.table_specs)
            ],
            "outputs": [{"name": OUTPUT_NAME, "dtype": "float32", "shape": ["batch", len(model.tasks)]}],
            "precision": PRECISION_FP32,
        },
        "parityFixtures": PARITY_FILE,
        "parityTolerance": FP32_PARITY_TOLERANCE,
        "metrics": json_safe(result.metrics),
    }


def _hyperparameters(config: Config, result: TrainingResult) -> dict:
    train = config.train
    return {
        **{k: v for k, v in dataclasses.asdict(config.model).items() if k != "architecture"},
        "batch_size": train.batch_size,
        "learning_rate": train.learning_rate,
        "embedding_l2": train.embedding_l2,
        "epochs_trained": result.epochs_trained,
        "seed": train.seed,
    }


def _vocab_file(field: str) -> str:
    return f"vocab/{field}.txt"


def _table_file(file_stem: str) -> str:
    return f"tables/{file_stem}.f32"
