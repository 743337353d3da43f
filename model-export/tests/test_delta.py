"""Incremental training and deltas (docs/bundle-format.md, "Deltas"): a bundle trained on day 1 of day-sliced
synthetic data, delta 1 trained on day 2, delta 2 on day 3. The deltas are read back the way the service reads
them (bundle_scorer.ServedModel, written from the doc alone), never through the trainer's own reader."""
import dataclasses
import hashlib
import json
import shutil

import numpy as np
import onnx
import pandas as pd
import pytest
import torch
from onnx import numpy_helper

from stemnet.cli import main
from stemnet.config import ConfigError, load_config
from stemnet.encoded_data.splits import read_split
from stemnet.raw_data.synthetic import generate
from stemnet.encoded_data.vocab import Vocabulary
from stemnet.export.bundle import write_bundle
from stemnet.export.delta import write_delta
from stemnet.incremental import DeltaError, grow_vocabularies, read_serving_state
from stemnet.train import train

from bundle_scorer import TOLERANCE, BundleScorer, ServedModel, parity_lines, worst_parity_error
from conftest import CONFIGS


@pytest.fixture(scope="module")
def config():
    config = load_config(CONFIGS / "delta.yaml", train__epochs=2)
    return dataclasses.replace(config, data=dataclasses.replace(config.data, days=3, num_rows=18_000))


@pytest.fixture(scope="module")
def days(config, tmp_path_factory):
    root = tmp_path_factory.mktemp("days")
    for day in (1, 2, 3):
        generate(config.data, root / f"day-{day}", days=(day, day))
    return root


@pytest.fixture(scope="module")
def base(config, days, tmp_path_factory):
    return write_bundle(tmp_path_factory.mktemp("base") / "base", train(config, days / "day-1"), config)


@pytest.fixture(scope="module")
def first(config, days, base, tmp_path_factory):
    """Delta 1 (day 2) and the training run that wrote it."""
    state = read_serving_state(base)
    result = train(config, days / "day-2", start=state, freeze_dense=True)
    out = tmp_path_factory.mktemp("deltas") / "delta-1"
    frame = read_split(days / "day-2", "train", result.schema)
    write_delta(out, state, result.model, result.vocabs, frame, config, trained_on="day 2")
    return out, result


@pytest.fixture(scope="module")
def second(config, days, base, first, tmp_path_factory):
    """Delta 2 (day 3) on top of delta 1, through the command line."""
    out = tmp_path_factory.mktemp("deltas") / "delta-2"
    code = main(["train", "--config", str(CONFIGS / "delta.yaml"), "--epochs", "2", "--data", str(days / "day-3"),
                 "--from-bundle", str(base), "--from-delta", str(first[0]), "--delta-out", str(out)])
    assert code == 0
    return out


def _delta(root):
    return json.loads((root / "delta.json").read_text(encoding="utf-8"))


def test_growth_keeps_known_indices_and_appends_new_values_most_frequent_first():
    known = {"ad_id": Vocabulary(["a1", "a2", "a3"])}
    counted = {"ad_id": Vocabulary(["a9", "a2", "a7", "a1"])}  # most frequent first, as counted
    grown = grow_vocabularies(known, counted)["ad_id"]
    assert grown.values == ["a1", "a2", "a3", "a9", "a7"]
    assert list(grown.encode(["a1", "a2", "a3", "a9", "a7", "zz"])) == [1, 2, 3, 4, 5, 0]


def test_the_trained_vocabularies_extend_the_bundles(base, first):
    _, result = first
    for field in json.loads((base / "manifest.json").read_text())["fields"]:
        values = (base / field["vocabulary"]).read_text(encoding="utf-8").split("\n")[:-1]
        assert result.vocabs[field["name"]].values[: len(values)] == values
    added = _delta(first[0])["fields"]
    assert {f["name"] for f in added} >= {"ad_id", "user_id"}  # the config launches ads and users on day 2


def test_delta_files_sizes_and_checksums_follow_the_contract(base, first):
    root, _ = first
    delta = _delta(root)
    manifest = json.loads((base / "manifest.json").read_text())
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {"delta.json"}
    assert set(delta["files"]) == on_disk
    for name, digest in delta["files"].items():
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest, name
    assert delta["formatVersion"] == 1 and delta["sequence"] == 1 and delta["parityTolerance"] == 1e-5
    assert delta["base"] == {"name": manifest["model"]["name"], "version": manifest["model"]["version"],
                             "onnxSha256": hashlib.sha256((base / "model.onnx").read_bytes()).hexdigest()}
    sizes = {f["name"]: f["vocabSize"] for f in manifest["fields"]}
    base_values = {f["name"]: set((base / f["vocabulary"]).read_text().split("\n")[:-1]) for f in manifest["fields"]}
    for field in delta["fields"]:
        added = (root / field["vocabulary"]).read_text(encoding="utf-8").split("\n")[:-1]
        assert field["vocabSizeBefore"] == sizes[field["name"]]
        assert field["vocabSizeAfter"] == field["vocabSizeBefore"] + len(added) > field["vocabSizeBefore"]
        assert not set(added) & base_values[field["name"]]
    growth = {f["name"]: f["vocabSizeAfter"] - f["vocabSizeBefore"] for f in delta["fields"]}
    assert [t["name"] for t in delta["tables"]] == [t["name"] for t in manifest["tables"]]
    for table, base_table in zip(delta["tables"], manifest["tables"]):
        assert table["rowsBefore"] == base_table["rows"] and table["dim"] == base_table["dim"]
        covered = [f["name"] for f in base_table["fields"] if f["name"] in growth]
        assert [b["field"] for b in table["appended"]] == covered  # one block per growing field, table order
        next_row = table["rowsBefore"]
        for block in table["appended"]:
            assert (block["firstRow"], block["count"]) == (next_row, growth[block["field"]])
            next_row += block["count"]
        assert table["rowsAfter"] == next_row
        assert (root / table["rows"]).stat().st_size == table["count"] * 8
        assert (root / table["values"]).stat().st_size == table["count"] * table["dim"] * 4
        rows = np.fromfile(root / table["rows"], dtype="<i8")
        assert np.all(np.diff(rows) > 0) and rows[-1] < table["rowsAfter"]
        assert set(range(table["rowsBefore"], table["rowsAfter"])) <= set(rows.tolist())  # every appended row


def test_delta_holds_exactly_the_rows_that_changed_bit_for_bit(base, first):
    root, _ = first
    served = ServedModel(base, [root])
    bundle = BundleScorer(base)
    for entry in _delta(root)["tables"]:
        before = bundle.tables[entry["name"]][1]
        after = served.tables[entry["name"]][1]
        changed = np.flatnonzero(np.any(after[: len(before)].view(np.uint32) != before.view(np.uint32), axis=1))
        rows = np.fromfile(root / entry["rows"], dtype="<i8")
        assert rows[rows < len(before)].tolist() == changed.tolist()
        assert len(changed) > 0


def test_base_graph_with_the_deltas_rows_scores_as_pytorch_after_training(base, first, days):
    root, result = first
    served = ServedModel(base, [root])
    assert worst_parity_error(root, served) <= TOLERANCE
    # Day-2 test rows, scored one candidate per request by the doc's row rule, against the trained PyTorch model.
    rows = read_split(days / "day-2", "test", result.schema).head(300)
    user_fields = [f.name for f in result.schema.fields if f.side == "user" and f.name != "user_id"]
    item_fields = [f.name for f in result.schema.fields if f.side == "item" and f.name != "ad_id"]
    requests = [{"userId": r["user_id"], "userFeatures": {n: r[n] for n in user_fields},
                 "candidates": [{"itemId": r["ad_id"], "features": {n: r[n] for n in item_fields}}]}
                for _, r in rows.iterrows()]
    onnx_probs = np.array([[s[t] for t in result.model.tasks] for r in requests for s in served.score(r)])
    ids = np.stack([result.vocabs[n].encode(rows[n]) for n in result.schema.field_names], axis=1)
    with torch.no_grad():
        torch_probs = result.model.eval()(torch.from_numpy(ids)).numpy()
    assert np.abs(onnx_probs - torch_probs).max() <= TOLERANCE
    added_ads = set((root / "vocab/ad_id.txt").read_text().split("\n")[:-1])
    assert rows["ad_id"].isin(added_ads).any()  # the check covers appended rows, not only base ones


def test_fixtures_favour_added_ids_and_include_changed_known_ones(base, first):
    root, _ = first
    lines = parity_lines(root)
    assert len(lines) >= 50
    added_ads = set((root / "vocab/ad_id.txt").read_text().split("\n")[:-1])
    added_users = set((root / "vocab/user_id.txt").read_text().split("\n")[:-1])
    base_ads = set((base / "vocab/ad_id.txt").read_text().split("\n")[:-1])
    items = [c["itemId"] for line in lines for c in line["request"]["candidates"]]
    assert sum(i in added_ads for i in items) > 0.5 * len(items)
    assert any(i in base_ads for i in items)
    assert sum(line["request"]["userId"] in added_users for line in lines) >= len(lines) // 5


def test_delta_training_leaves_the_dense_network_bit_for_bit(base, first):
    _, result = first
    graph = onnx.load(str(base / "model.onnx"))
    weights = {t.name.removeprefix("model."): numpy_helper.to_array(t) for t in graph.graph.initializer}
    dense = {k: v for k, v in result.model.state_dict().items() if not k.startswith("embeddings.")}
    assert dense and all(np.array_equal(v.numpy(), weights[k]) for k, v in dense.items())
    assert not any(p.requires_grad for k, p in result.model.named_parameters() if not k.startswith("embeddings."))


def test_second_delta_continues_the_sequence(base, first, second):
    one, two = _delta(first[0]), _delta(second)
    assert two["sequence"] == 2 and two["base"] == one["base"]
    after_one = {t["name"]: t["rowsAfter"] for t in one["tables"]}
    assert {t["name"]: t["rowsBefore"] for t in two["tables"]} == after_one
    sizes = {f["name"]: f["vocabSizeAfter"] for f in one["fields"]}
    for field in two["fields"]:
        assert field["vocabSizeBefore"] == sizes.get(field["name"], field["vocabSizeBefore"])
    assert worst_parity_error(second, ServedModel(base, [first[0], second])) <= TOLERANCE


def test_refused_deltas_and_bases(config, base, first, second, bundle_dir, tmp_path):
    one = first[0]
    with pytest.raises(DeltaError, match=r"\[out_of_order\]"):
        read_serving_state(base, [second])
    with pytest.raises(DeltaError, match=r"\[out_of_order\]"):
        read_serving_state(base, [one, second, one])
    with pytest.raises(DeltaError, match=r"not of .*\[wrong_base\]"):
        read_serving_state(bundle_dir, [one])
    tampered = shutil.copytree(one, tmp_path / "tampered")
    values = tampered / _delta(one)["tables"][0]["values"]
    values.write_bytes(b"\0\0\0\0" + values.read_bytes()[4:])
    with pytest.raises(DeltaError, match=r"\[checksum\]"):
        read_serving_state(base, [tampered])


def test_a_config_or_data_that_does_not_match_the_bundle_is_refused(base, days, tmp_path, capsys):
    args = ["train", "--config", str(CONFIGS / "delta.yaml"), "--data", str(days / "day-2"), "--from-bundle", str(base),
            "--delta-out", str(tmp_path / "d")]
    assert main(args + ["--architecture", "mmoe"]) == 2
    assert "the config's model does not match the bundle" in capsys.readouterr().err
    schema = (days / "day-2" / "schema.yaml").read_text()
    other = shutil.copytree(days / "day-2", tmp_path / "other")
    assert "- pay\n" in schema
    (other / "schema.yaml").write_text(schema.replace("- pay\n", "- pays\n"))
    with pytest.raises(ConfigError, match="the data's tasks"):
        train(load_config(CONFIGS / "delta.yaml"), other, start=read_serving_state(base), freeze_dense=True)
    assert main(["train", "--config", str(CONFIGS / "delta.yaml"), "--data", str(days / "day-2"),
                 "--delta-out", str(tmp_path / "d")]) == 2
    assert "--delta-out needs --from-bundle" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_day_slices_partition_the_rows_and_late_ads_start_later(config, days, tmp_path):
    generate(config.data, tmp_path / "all")
    whole = pd.read_parquet(tmp_path / "all" / "train.parquet")
    parts = [pd.read_parquet(days / f"day-{d}" / "train.parquet") for d in (1, 2, 3)]
    assert sum(len(p) for p in parts) == len(whole)
    assert [set(p["day"]) for p in parts] == [{1}, {2}, {3}]
    assert set(parts[1]["ad_id"]) - set(parts[0]["ad_id"])  # ads launched on day 2
    with pytest.raises(ConfigError, match="no days"):
        generate(load_config(CONFIGS / "tiny.yaml").data, tmp_path / "x", days=(1, 1))


def test_bundle_out_from_a_bundle_and_delta_is_a_new_bundle_of_the_grown_model(base, first, days, tmp_path):
    out = tmp_path / "rebuilt"
    assert main(["train", "--config", str(CONFIGS / "delta.yaml"), "--epochs", "1", "--data", str(days / "day-3"),
                 "--from-bundle", str(base), "--from-delta", str(first[0]), "--bundle-out", str(out)]) == 0
    rebuilt, served = BundleScorer(out), ServedModel(base, [first[0]])
    assert rebuilt.manifest["model"]["version"] != served.manifest["model"]["version"]
    for field, indices in served.vocab.items():
        assert all(rebuilt.vocab[field][value] == index for value, index in indices.items())  # indices kept
    assert worst_parity_error(out) <= TOLERANCE
