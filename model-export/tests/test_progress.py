import dataclasses

import pandas as pd

from stemnet.raw_data.schema import Schema
from stemnet.train import EpochProgress, train


def test_off_a_terminal_progress_is_plain_lines_with_samples_rate_and_loss(capsys):
    progress = EpochProgress(epoch=3, total=4000, every_seconds=0.0, enabled=True)  # pytest's stderr is no terminal
    for _ in range(4):
        progress.step(1000, loss=0.5)
    progress.close()
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert "\r" not in out + err
    assert len(lines) == 4
    assert lines[-1].startswith("epoch 3: 4,000/4,000 samples, ") and lines[-1].endswith("loss 0.5000")
    assert "samples/s" in lines[-1]


def test_other_ranks_print_nothing(capsys):
    progress = EpochProgress(epoch=1, total=10, every_seconds=0.0, enabled=False)
    progress.step(10, loss=1.0)
    assert capsys.readouterr().out == ""


def test_a_run_writes_its_metrics_as_json_lines_a_notebook_reads(tiny_config, tiny_data, tmp_path):
    config = dataclasses.replace(tiny_config, train=dataclasses.replace(tiny_config.train, epochs=2, patience=5))
    train(config, tiny_data, metrics_out=tmp_path / "metrics.jsonl")
    frame = pd.read_json(tmp_path / "metrics.jsonl", lines=True)
    tasks = Schema.load(tiny_data).tasks
    assert set(frame.columns) >= {"epoch", "split", "task", "auc", "logloss"}
    assert len(frame[frame["split"] == "valid"]) == 2 * len(tasks) + len(tasks)  # each epoch's, and the best's
    assert set(frame[frame["epoch"] == "best"]["split"]) == {"valid", "test"}
    assert frame["auc"].between(0, 1).all()
