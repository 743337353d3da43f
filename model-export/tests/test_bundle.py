"""Scores the bundle the way the Java service does, without the stemnet package: vocabulary
files -> row indices -> rows from the .f32 tables -> ONNX Runtime."""
import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from stemnet.data.dataset import encode_split
from stemnet.export.bundle import write_bundle

TOLERANCE = 1e-5


class BundleScorer:
    def __init__(self, root: Path):
        self.manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        self.fields = {f["name"]: f for f in self.manifest["fields"]}
        self.vocab = {
            name: {v: i + 1 for i, v in enumerate((root / f["vocabulary"]).read_text(encoding="utf-8").split("\n")[:-1])}
            for name, f in self.fields.items()
        }
        self.tables = {
            t["name"]: (t, np.fromfile(root / t["file"], dtype="<f4").reshape(t["rows"], t["dim"]))
            for t in self.manifest["tables"]
        }
        self.session = ort.InferenceSession(str(root / self.manifest["onnx"]["file"]))

    def row_index(self, field: str, value) -> int:
        return 0 if value is None else self.vocab[field].get(str(value), 0)

    def values(self, request: dict, candidate: dict) -> dict:
        user = {**request.get("userFeatures", {}), self.manifest["userIdField"]: request.get("userId")}
        item = {**candidate.get("features", {}), self.manifest["itemIdField"]: candidate.get("itemId")}
        return {name: (user if f["side"] == "user" else item).get(name) for name, f in self.fields.items()}

    def score(self, request: dict) -> list[dict]:
        candidates = [self.values(request, c) for c in request["candidates"]]
        feeds = {}
        for spec in self.manifest["onnx"]["inputs"]:
            table, rows = self.tables[spec["table"]]
            index = [[f["rowOffset"] + self.row_index(f["name"], c[f["name"]]) for f in table["fields"]] for c in candidates]
            feeds[spec["name"]] = rows[np.array(index)]
        (probs,) = self.session.run([self.manifest["onnx"]["outputs"][0]["name"]], feeds)
        tasks = self.manifest["tasks"]
        wanted = request.get("tasks", tasks)
        return [{t: float(row[tasks.index(t)]) for t in wanted} for row in probs]


def _parity_lines(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "parity.jsonl").read_text(encoding="utf-8").splitlines()]


def test_every_parity_fixture_is_reproduced_by_onnx_runtime(bundle_dir):
    scorer = BundleScorer(bundle_dir)
    lines = _parity_lines(bundle_dir)
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
    lines = _parity_lines(bundle_dir)
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
