"""The benchmark command end to end on the tiny data: two architectures, two seeds, one epoch."""
import json

import numpy as np
import pytest
import pyarrow.parquet as pq

from conftest import CONFIGS
from stemnet.cli import main
from stemnet.report import AUC_PLOT, BAYES_ROW, COMPARABLE_PLOT, PREDICTIONS_FILE, REPORT_FILE, RESULTS_FILE


def test_benchmark_writes_tables_and_plots(tiny_data, tmp_path, capsys):
    out = tmp_path / "bench"
    status = main([
        "benchmark", "--config", str(CONFIGS / "tiny.yaml"),
        "--data", str(tiny_data), "--out", str(out), "--architectures", "single_task,stem_net",
        "--seeds", "0,1", "--epochs", "1", "--task-pair", "follow,pay", "--save-predictions",
    ])
    assert status == 0
    printed = capsys.readouterr().out
    for heading in ("Test AUC", "Test gAUC", "Test logloss", "Comparable-subset", "Gate analysis", "Quality bar"):
        assert heading in printed
    results = json.loads((out / RESULTS_FILE).read_text())
    assert [(r["architecture"], r["seed"]) for r in results["runs"]] == [
        ("single_task", 0), ("single_task", 1), ("stem_net", 0), ("stem_net", 1)
    ]
    assert sum(results["subset_sizes"].values()) == _test_rows(tiny_data)
    # The synthetic data carries true probabilities: each subset has a Bayes-optimal AUC to compare with.
    bayes = results["comparable_bayes"]
    assert set(bayes) == {"follow", "pay"} and set(bayes["pay"]) == set(results["comparable"]["stem_net"]["pay"])
    assert all(0.5 < value <= 1.0 for task in bayes.values() for value in task.values() if value == value)
    comparable_rows = [line for line in printed.splitlines() if line.startswith(f"| {BAYES_ROW} |")]
    assert len(comparable_rows) == 2  # the test-AUC table and the comparable-subset table
    assert results["runs"][0]["gates"] is None and results["runs"][2]["gates"] is not None
    for name in (REPORT_FILE, AUC_PLOT, COMPARABLE_PLOT):
        assert (out / name).stat().st_size > 0
    assert (out / AUC_PLOT).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with np.load(out / PREDICTIONS_FILE) as predictions:
        assert sorted(predictions.files) == sorted(
            ["tasks", "labels", "single_task/seed0", "single_task/seed1", "stem_net/seed0", "stem_net/seed1"]
        )
        labels = pq.read_table(tiny_data / "test.parquet", columns=list(results["tasks"])).to_pandas().to_numpy()
        assert np.array_equal(predictions["labels"], labels)
        assert predictions["stem_net/seed1"].shape == labels.shape


def test_benchmark_rejects_an_unknown_task_pair(tiny_data, tmp_path, capsys):
    status = main([
        "benchmark", "--config", str(CONFIGS / "tiny.yaml"), "--data", str(tiny_data), "--out", str(tmp_path),
        "--architectures", "mmoe", "--task-pair", "follow,clicks",
    ])
    assert status == 2
    assert "clicks" in capsys.readouterr().err


def _test_rows(data_dir) -> int:
    return pq.read_metadata(data_dir / "test.parquet").num_rows


def test_grid_trains_every_setting_and_keeps_each_models_best_on_validation(tiny_data, tmp_path, capsys):
    out = tmp_path / "bench"
    status = main([
        "benchmark", "--config", str(CONFIGS / "tiny.yaml"), "--data", str(tiny_data), "--out", str(out),
        "--architectures", "single_task,ple", "--seeds", "0", "--epochs", "1",
        "--grid", "model.num_shared_experts=[1, 3]",
    ])
    assert status == 0
    printed = capsys.readouterr().out
    assert "Settings tried" in printed
    results = json.loads((out / RESULTS_FILE).read_text())
    selection = {(c["architecture"], c["setting"]): c for c in results["selection"]}
    assert set(selection) == {
        (arch, f"model.num_shared_experts={n}") for arch in ("single_task", "ple") for n in (1, 3)
    }
    # Single-Task has no shared experts: both settings train the same model; the first is kept.
    one, three = selection["single_task", "model.num_shared_experts=1"], selection["single_task", "model.num_shared_experts=3"]
    assert one["valid_auc"] == three["valid_auc"] and one["chosen"] and not three["chosen"]
    ple = [c for c in results["selection"] if c["architecture"] == "ple"]
    assert [c["chosen"] for c in ple] == [c["valid_auc"] == max(p["valid_auc"] for p in ple) for c in ple]
    kept = {c["architecture"]: c["setting"] for c in results["selection"] if c["chosen"]}
    # Only the kept setting's runs reach the tables.
    assert [(r["architecture"], r["setting"]) for r in results["runs"]] == [
        ("single_task", kept["single_task"]), ("ple", kept["ple"])
    ]
    assert results["runs"][1]["valid_auc"] == selection["ple", kept["ple"]]["valid_auc"]
    assert f"| ple ({kept['ple']}) |" in printed  # the metric tables name the kept setting


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--grid", "model.num_shared_experts=8"], "expected a non-empty YAML list"),
        (["--grid", "model.num_shared_experts=[1, 8]", "--set", "model.num_shared_experts=2"], "also given by --set"),
        (["--grid", "model.num_shared_experts=[1]", "--grid", "model.num_shared_experts=[8]"], "given twice"),
        (["--grid", "model.num_shared_expert=[1, 8]"], "unknown key(s) ['num_shared_expert']"),
        (["--epochs", "1", "--set", "train.epochs=2"], "--set train.epochs: also given by --epochs"),
        (["--epochs", "1", "--grid", "train.epochs=[1, 2]"], "--grid train.epochs: also given by --set or by its own option"),
    ],
)
def test_a_malformed_grid_or_override_is_refused_before_any_training(tiny_data, tmp_path, capsys, extra, message):
    status = main([
        "benchmark", "--config", str(CONFIGS / "tiny.yaml"), "--data", str(tiny_data), "--out", str(tmp_path),
        "--architectures", "ple", *extra,
    ])
    assert status == 2
    captured = capsys.readouterr()
    assert message in captured.err and "== ple" not in captured.out
