"""Checks the bundle the way the Java service reads it (bundle_scorer.BundleScorer)."""
import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from in_memory_encoding import encode_split
from stemnet.export.bundle import write_bundle

from bundle_scorer import TOLERANCE, BundleScorer, parity_lines


def test_every_parity_fixture_is_reproduced_by_onnx_runtime(bundle_dir):
    scorer = BundleScorer(bundle_dir)
    lines = parity_lines(bundle_dir)
    assert len(lines) >= 200
    for line in lines:
        actual = scorer.score(line["request"])
        assert len(actual) == len(line["expected"])
        for got, want in zip(actual, line["expected"]):
            assert got.keys() == want.keys()
            assert max(abs(got[t] - want[t]) for t in want) <= TOLERANCE, line["request"]["requestId"]


def test_bundle_scores_match_pytorch_on_test_rows(bundle_dir, trained):
    rows = trained.test_frame.head(300)
    scorer = BundleScorer(bundle_dir)
    user_fields = [f.name for f in trained.schema.fields if f.side == "user"]
    requests = [
        {
            "userId": row["user_id"],
            "userFeatures": {n: row[n] for n in user_fields if n != "user_id"},
            "candidates": [{"itemId": row["ad_id"], "features": {n: row[n] for n in ("advertiser", "category", "creative_type")}}],
        }
        for _, row in rows.iterrows()
    ]
    onnx_probs = np.array([[s[t] for t in trained.model.tasks] for r in requests for s in scorer.score(r)])
    encoded = encode_split(rows, trained.schema, trained.vocabs)
    with torch.no_grad():
        torch_probs = trained.model.eval()(torch.from_numpy(encoded.ids)).numpy()
    assert np.abs(onnx_probs - torch_probs).max() <= TOLERANCE


def test_fixtures_cover_unseen_values_missing_features_and_task_subsets(bundle_dir):
    scorer = BundleScorer(bundle_dir)
    lines = parity_lines(bundle_dir)
    requests = [line["request"] for line in lines]
    oov = [
        (name, value)
        for r in requests
        for c in r["candidates"]
        for name, value in scorer.values(r, c).items()
        if value is not None and scorer.row_index(name, value) == 0
    ]
    assert any(name == "ad_id" for name, _ in oov)
    assert any(name not in ("ad_id", "user_id") for name, _ in oov)
    assert any(len(r["userFeatures"]) < 3 for r in requests)
    assert any(len(c["features"]) < 3 for r in requests for c in r["candidates"])
    assert any("tasks" in r and len(r["tasks"]) < 3 for r in requests)
    assert all(1 <= len(r["candidates"]) <= 20 for r in requests)


def test_manifest_lists_every_file_with_its_sha256(bundle_dir):
    manifest = json.loads((bundle_dir / "manifest.json").read_text(encoding="utf-8"))
    on_disk = {p.relative_to(bundle_dir).as_posix() for p in bundle_dir.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((bundle_dir / name).read_bytes()).hexdigest() == digest, name


def test_manifest_layout_matches_the_contract(bundle_dir):
    manifest = json.loads((bundle_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["formatVersion"] == 1
    assert manifest["tasks"] == ["follow", "activation", "pay"]
    sizes = {f["name"]: f["vocabSize"] for f in manifest["fields"]}
    for field in manifest["fields"]:
        lines = (bundle_dir / field["vocabulary"]).read_text(encoding="utf-8").count("\n")
        assert field["vocabSize"] == lines + 1
    assert [t["name"] for t in manifest["tables"]] == ["shared", "task:follow", "task:activation", "task:pay"]
    for table in manifest["tables"]:
        offset = 0
        for field in table["fields"]:
            assert field["rowOffset"] == offset
            offset += sizes[field["name"]]
        assert table["rows"] == offset
        assert (bundle_dir / table["file"]).stat().st_size == table["rows"] * table["dim"] * 4
    inputs = manifest["onnx"]["inputs"]
    session = ort.InferenceSession(str(bundle_dir / "model.onnx"))
    assert [i.name for i in session.get_inputs()] == [i["name"] for i in inputs]
    assert all(i.shape[0] == "batch" for i in session.get_inputs())
    assert [o.name for o in session.get_outputs()] == ["probabilities"]


def test_failed_export_leaves_the_previous_bundle_untouched(bundle_dir, trained, tiny_config, monkeypatch):
    before = (bundle_dir / "manifest.json").read_bytes()

    def broken_export(*args, **kwargs):
        raise RuntimeError("export interrupted")

    monkeypatch.setattr("stemnet.export.bundle.export_dense", broken_export)
    with pytest.raises(RuntimeError, match="interrupted"):
        write_bundle(bundle_dir, trained, tiny_config)
    assert (bundle_dir / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in bundle_dir.parent.iterdir()) == [bundle_dir.name]
