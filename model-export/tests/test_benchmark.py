"""The benchmark command end to end on the tiny data: two architectures, two seeds, one epoch."""
import json

import numpy as np
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
