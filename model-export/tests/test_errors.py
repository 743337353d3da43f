import dataclasses
import shutil

import pandas as pd
import pytest
import torch
import yaml

from stemnet.cli import main
from stemnet.config import ConfigError, TrainConfig, load_config
from stemnet.raw_data.schema import DataError, Schema
from stemnet.encoded_data.splits import read_split
from stemnet.train import resolve_device, train

GOOD = """
data: {num_users: 10, num_ads: 5, num_rows: 100}
model: {expert_hidden: [8]}
train: {epochs: 1}
"""


def _config(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_good_config_loads(tmp_path):
    config = load_config(_config(tmp_path, GOOD), train__seed=5)
    assert config.model.expert_hidden == [8]
    assert config.train.seed == 5
    assert config.train.embedding_l2 == 1.0e-6
    assert config.train.task_table_l2 is None  # unset: task tables get embedding_l2 like the rest


def test_task_table_l2_is_read_as_a_float(tmp_path):
    config = load_config(_config(tmp_path, GOOD.replace("epochs: 1", "epochs: 1, task_table_l2: 1.0e-4")))
    assert config.train.task_table_l2 == 1.0e-4


@pytest.mark.parametrize(
    "text, message",
    [
        (GOOD.replace("epochs: 1", "epochs: 1, epochz: 2"), r"config.yaml: train: unknown key\(s\) \['epochz'\]"),
        (GOOD.replace("epochs: 1", "epochs: three"), r"config.yaml: train.epochs: expected int, got str"),
        (GOOD.replace("[8]", "[8, wide]"), r"model.expert_hidden\[1\]: expected int"),
        (GOOD + "train2: {}\n", r"unknown key\(s\) \['train2'\]"),
        (GOOD.replace("train: {epochs: 1}", ""), r"config.yaml: missing section\(s\) \['train'\]"),
        (GOOD.replace("epochs: 1", "learning_rate: 1e-3"), r"train.learning_rate: expected float.*write 1.0e-6"),
        (GOOD.replace("epochs: 1", "epochs: true"), r"train.epochs: expected int, got bool"),
    ],
)
def test_malformed_config_names_the_file_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(_config(tmp_path, text))


@pytest.fixture()
def data_copy(tiny_data, tmp_path):
    return shutil.copytree(tiny_data, tmp_path / "data")


def _rewrite(path, change):
    frame = pd.read_parquet(path)
    change(frame).to_parquet(path, index=False)


def test_missing_label_column_is_named(data_copy):
    _rewrite(data_copy / "valid.parquet", lambda f: f.drop(columns=["pay"]))
    with pytest.raises(DataError, match=r"valid.parquet: missing label column 'pay'"):
        read_split(data_copy, "valid", Schema.load(data_copy))


def test_non_binary_label_is_named(data_copy):
    _rewrite(data_copy / "train.parquet", lambda f: f.assign(activation=f["activation"] * 3))
    with pytest.raises(DataError, match=r"train.parquet: label column 'activation' must hold only 0/1, found \[3\]"):
        read_split(data_copy, "train", Schema.load(data_copy))


def test_empty_file_is_reported(data_copy):
    _rewrite(data_copy / "test.parquet", lambda f: f.head(0))
    with pytest.raises(DataError, match=r"test.parquet: the file has no rows"):
        read_split(data_copy, "test", Schema.load(data_copy))


def test_missing_feature_column_is_named(data_copy):
    _rewrite(data_copy / "train.parquet", lambda f: f.drop(columns=["device"]))
    with pytest.raises(DataError, match=r"train.parquet: missing feature column\(s\) \['device'\]"):
        read_split(data_copy, "train", Schema.load(data_copy))


def test_garbage_file_is_reported(data_copy):
    (data_copy / "train.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"train.parquet: not a readable Parquet file"):
        read_split(data_copy, "train", Schema.load(data_copy))


def test_cli_reports_unknown_field_in_config_without_a_traceback(data_copy, tmp_path, capsys):
    config = _config(tmp_path, GOOD.replace("expert_hidden: [8]", "expert_hidden: [8], task_specific_fields: [ad_id, clicks]"))
    code = main(["train", "--config", str(config), "--data", str(data_copy), "--bundle-out", str(tmp_path / "bundle")])
    assert code == 2
    assert "task_specific_fields: unknown field(s) ['clicks']" in capsys.readouterr().err
    assert not (tmp_path / "bundle").exists()


def test_cli_reports_missing_data_directory(tmp_path, capsys):
    config = _config(tmp_path, GOOD)
    code = main(["train", "--config", str(config), "--data", str(tmp_path / "nowhere"), "--bundle-out", str(tmp_path / "b")])
    assert code == 2
    assert "schema.yaml" in capsys.readouterr().err


def test_a_bad_label_names_file_row_and_column_before_the_first_epoch(tiny_config, data_copy, capsys):
    def corrupt(frame):
        frame.loc[17, "activation"] = 3
        return frame

    _rewrite(data_copy / "train.parquet", corrupt)
    config = dataclasses.replace(tiny_config, train=dataclasses.replace(tiny_config.train, chunk_rows=10))
    with pytest.raises(DataError, match=r"train.parquet: label column 'activation' must hold only 0/1, found \[3\] \(first at row 18\)"):
        train(config, data_copy)
    assert "trained:" not in capsys.readouterr().out


def test_a_missing_column_in_the_test_split_fails_before_any_pass_over_train(tiny_config, data_copy, monkeypatch):
    _rewrite(data_copy / "test.parquet", lambda f: f.drop(columns=["category"]))
    monkeypatch.setattr("stemnet.train.count_vocabularies", _must_not_run)
    with pytest.raises(DataError, match=r"test.parquet: missing feature column\(s\) \['category'\]"):
        train(tiny_config, data_copy)


def _must_not_run(*args, **kwargs):
    raise AssertionError("read the train split before checking every split's columns")


@pytest.mark.parametrize("key, value", [("num_workers", -1), ("chunk_rows", 0), ("shuffle_buffer_rows", 0)])
def test_loader_settings_out_of_range_are_named(tiny_config, key, value):
    with pytest.raises(ConfigError, match=rf"train.{key}: expected at least"):
        dataclasses.replace(tiny_config.train, **{key: value})


def test_cuda_without_a_device_fails_before_reading_any_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    config = _config(tmp_path, GOOD)
    code = main(["train", "--config", str(config), "--data", str(tmp_path / "nowhere"), "--bundle-out", str(tmp_path / "b"),
                 "--device", "cuda"])
    assert code == 2
    err = capsys.readouterr().err
    assert "train.device: 'cuda' requested but no CUDA device is available" in err
    assert "schema.yaml" not in err  # no silent fallback to CPU, no reading of data first
    assert not (tmp_path / "b").exists()


def test_auto_device_takes_cuda_only_when_there_is_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    with pytest.raises(ConfigError, match=r"train.device: expected one of \['cpu', 'cuda', 'auto'\], got 'gpu'"):
        TrainConfig(device="gpu")


@pytest.mark.parametrize(("section", "settings", "key"), [
    ("train", {"precision": "fp16"}, "train.precision"),
    ("train", {"epochs": 0}, "train.epochs"),
    ("train", {"collective_timeout_seconds": 0}, "train.collective_timeout_seconds"),
    ("export", {"quantization": "fp16"}, "export.quantization"),
])
def test_every_setting_is_checked_when_the_config_is_loaded(tmp_path, section, settings, key):
    """Before any data is read: the file alone is refused, naming the key."""
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"model": {}, "train": {}, section: settings}))
    with pytest.raises(ConfigError, match=key):
        load_config(config)
