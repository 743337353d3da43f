"""Writes a delta as specified in docs/bundle-format.md, section "Deltas": the vocabulary values a training run
added, and every table row it appended or changed, in the service's row layout.

Like a bundle, the delta is assembled in a temporary sibling directory, checked, and renamed into place. The check
reads the staged delta back exactly as `--from-delta` does (every check of the service's list) and scores its
fixtures with ONNX Runtime on the base graph through the service's row rule: they must match PyTorch within 1e-5.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from stemnet.config import Config
from stemnet.raw_data.schema import Schema
from stemnet.encoded_data.vocab import Vocabulary
from stemnet.export.checksums import checksums
from stemnet.export.onnx_graph import TOLERANCE
from stemnet.export.parity import encode_requests, fixture_lines
from stemnet.incremental import (
    DELTA_FILE,
    FORMAT_VERSION,
    PARITY_TOLERANCE,
    ServingState,
    apply_delta,
    changed_dense,
    service_tables,
)
from stemnet.models.base import MultiTaskModel

PARITY_FILE = "parity.jsonl"
# The contract's minimum number of fixtures in a delta.
MIN_FIXTURES = 50


@dataclass(frozen=True)
class DeltaSummary:
    """What a delta holds, for the end-of-training report."""

    sequence: int
    added: dict[str, int]  # field -> values added (growing fields only)
    tables: list[dict]  # per table: name, rowsBefore, rowsAfter, appended (rows), updated (existing rows changed)
    fixtures: int
    worst_parity: float


def write_delta(
    out_dir: Path,
    state: ServingState,
    model: MultiTaskModel,
    vocabs: dict[str, Vocabulary],
    frame: pd.DataFrame,
    config: Config,
    trained_on: str,
) -> DeltaSummary:
    """Writes the delta that takes `state` (a base and its deltas) to `model` with the grown `vocabs`, whose
    dense network must be the base graph's bit for bit. `frame`: rows of the training slice, the source of the
    fixtures' requests."""
    changed = changed_dense(state, model)
    if changed:
        raise RuntimeError(f"the dense network changed during delta training ({changed[:3]}...): a delta cannot carry it")
    model = model.eval()
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(0o755)
    try:
        summary = _write_contents(staging, state, model, vocabs, frame, config, trained_on)
        retired = staging.with_name(staging.name + ".old")
        if out_dir.exists():
            out_dir.rename(retired)
        staging.rename(out_dir)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return summary


def _write_contents(root, state, model, vocabs, frame, config, trained_on) -> DeltaSummary:
    sequence = state.sequence + 1
    (root / "vocab").mkdir()
    (root / "tables").mkdir()
    fields, added = [], {}
    for field in state.manifest["fields"]:
        name = field["name"]
        before, after = state.vocabs[name], vocabs[name]
        if after.size == before.size:
            continue
        assert after.values[: len(before.values)] == before.values, f"{name}: known values moved"
        Vocabulary(after.values[len(before.values) :]).write(root / f"vocab/{name}.txt")
        added[name] = after.size - before.size
        fields.append({"name": name, "vocabSizeBefore": before.size, "vocabSizeAfter": after.size,
                       "vocabulary": f"vocab/{name}.txt"})
    laid_out = service_tables(state, model, vocabs)
    tables, changed_rows = [], {}
    for table in state.manifest["tables"]:
        name, stem = table["name"], table["name"].replace(":", "_")
        values, maps, blocks = laid_out[name]
        before = state.tables[name]
        differs = np.any(values[: len(before)].view(np.uint32) != before.view(np.uint32), axis=1)
        changed_rows[name] = np.flatnonzero(differs)
        rows = np.concatenate([changed_rows[name], np.arange(len(before), len(values))]).astype("<i8")
        rows.tofile(root / f"tables/{stem}.rows")
        values[rows].astype("<f4").tofile(root / f"tables/{stem}.f32")
        tables.append({
            "name": name, "dim": table["dim"], "rowsBefore": len(before), "rowsAfter": len(values),
            "rows": f"tables/{stem}.rows", "values": f"tables/{stem}.f32", "count": len(rows), "appended": blocks,
        })
    requests = build_delta_requests(
        frame, state, vocabs, changed_rows, max(MIN_FIXTURES, config.export.parity_requests),
        config.export.max_candidates, config.train.seed, sequence,
    )
    ids = encode_requests(requests, state.schema, vocabs)
    with torch.no_grad():
        probs = model(torch.from_numpy(ids).to(next(model.parameters()).device)).cpu().numpy()
    with open(root / PARITY_FILE, "w", encoding="utf-8") as out:
        for line in fixture_lines(requests, probs, model.tasks):
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
    delta = {
        "formatVersion": FORMAT_VERSION,
        "base": {"name": state.name, "version": state.version, "onnxSha256": state.onnx_sha256},
        "sequence": sequence,
        "createdAt": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "trainedOn": trained_on,
        "fields": fields,
        "tables": tables,
        "parityFixtures": PARITY_FILE,
        "parityTolerance": PARITY_TOLERANCE,
    }
    delta["files"] = checksums(root, DELTA_FILE)
    (root / DELTA_FILE).write_text(json.dumps(delta, indent=2) + "\n", encoding="utf-8")
    worst = _check_with_onnx_runtime(root, state, ids, probs)
    summary_tables = [
        {"name": t["name"], "rowsBefore": t["rowsBefore"], "rowsAfter": t["rowsAfter"],
         "appended": t["rowsAfter"] - t["rowsBefore"], "updated": int(len(changed_rows[t["name"]]))}
        for t in tables
    ]
    return DeltaSummary(sequence, added, summary_tables, len(requests), worst)


def _check_with_onnx_runtime(root: Path, state: ServingState, ids: np.ndarray, expected: np.ndarray) -> float:
    """Applies the staged delta to a copy of `state` the way `--from-delta` (and the service) does, then scores the
    fixtures' candidates with the base graph in ONNX Runtime: they must be PyTorch's within the tolerance."""
    staged = state.copy()
    apply_delta(staged, root)
    actual = staged.score_onnx(ids)
    worst = float(np.max(np.abs(actual - expected))) if len(expected) else 0.0
    if worst > TOLERANCE:
        raise RuntimeError(f"ONNX Runtime with the base graph and the delta's rows differs from PyTorch by {worst:.3g} "
                           f"(limit {TOLERANCE}); no delta written")
    return worst


def build_delta_requests(
    frame: pd.DataFrame,
    state: ServingState,
    vocabs: dict[str, Vocabulary],
    changed_rows: dict[str, np.ndarray],
    count: int,
    max_candidates: int,
    seed: int,
    sequence: int,
) -> list[dict]:
    """`count` requests built from the slice's rows: three candidates in four carry an item id the delta added
    (when it adds any), the fourth a known item id whose rows changed; one request in four comes from a user the
    delta added (when it adds any); one in four asks for a subset of the tasks."""
    schema = state.schema
    rng = np.random.default_rng([seed, sequence])
    user, item = schema.user_id_field, schema.item_id_field
    frame = frame.reset_index(drop=True)
    users, items = frame[user].astype(str), frame[item].astype(str)
    new_items = set(vocabs[item].values[len(state.vocabs[item].values) :])
    new_users = set(vocabs[user].values[len(state.vocabs[user].values) :])
    changed_items = _changed_values(state, item, changed_rows)
    pools = {
        "added_item": np.flatnonzero(items.isin(new_items).to_numpy()),
        "changed_item": np.flatnonzero(items.isin(changed_items).to_numpy()),
        "added_user": np.flatnonzero(users.isin(new_users).to_numpy()),
        "any": np.arange(len(frame)),
    }
    requests = []
    for number in range(count):
        user_pool = pools["added_user"] if number % 4 == 0 and len(pools["added_user"]) else pools["any"]
        user_row = frame.iloc[int(rng.choice(user_pool))]
        candidates = []
        for position in range(int(rng.integers(1, max_candidates + 1))):
            kinds = ("changed_item", "added_item") if position % 4 == 3 else ("added_item", "changed_item")
            pool = next((pools[k] for k in kinds if len(pools[k])), pools["any"])
            candidates.append(frame.iloc[int(rng.choice(pool))])
        request = _request(user_row, candidates, schema, f"delta-{sequence}-{number}")
        if number % 4 == 3:
            size = int(rng.integers(1, len(schema.tasks)))
            chosen = set(rng.choice(list(schema.tasks), size=size, replace=False))
            request["tasks"] = [t for t in schema.tasks if t in chosen]
        requests.append(request)
    return requests


def _changed_values(state: ServingState, field: str, changed_rows: dict[str, np.ndarray]) -> set[str]:
    """Known values of `field` with a changed row in any table covering it."""
    known = state.vocabs[field].values
    found: set[str] = set()
    for table, rows in changed_rows.items():
        maps = state.row_maps[table]
        if field in maps and len(rows):
            index = np.flatnonzero(np.isin(maps[field], rows))
            found.update(known[i - 1] for i in index if i > 0)
    return found


def _request(user_row: pd.Series, candidates: list[pd.Series], schema: Schema, request_id: str) -> dict:
    user_fields = [f.name for f in schema.fields if f.side == "user" and f.name != schema.user_id_field]
    item_fields = [f.name for f in schema.fields if f.side == "item" and f.name != schema.item_id_field]
    return {
        "requestId": request_id,
        "userId": str(user_row[schema.user_id_field]),
        "userFeatures": {name: str(user_row[name]) for name in user_fields if _present(user_row[name])},
        "candidates": [
            {"itemId": str(row[schema.item_id_field]),
             "features": {name: str(row[name]) for name in item_fields if _present(row[name])}}
            for row in candidates
        ],
    }


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))
