"""`prepare`: raw public formats (hand-made files in tests/data) -> the trainer's Parquet splits."""
import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from stemnet.config import ConfigError
from stemnet.raw_data.dataset_config import load_dataset_config
from stemnet.raw_data.prepare import prepare
from stemnet.raw_data.schema import DataError, Schema
from stemnet.encoded_data.splits import read_split

from conftest import CONFIGS

DATA = Path(__file__).resolve().parent / "data"
KUAIRAND = """
format: kuairand
path: unused
fields:
  - {name: user_id, side: user}
  - {name: user_active_degree, side: user}
  - {name: video_id, side: item}
  - {name: author_id, side: item}
tasks: [is_click, finish]
user_id_field: user_id
item_id_field: video_id
split: {method: time, column: date, train_until: 20220428, valid_until: 20220429}
"""


def _prepared(config_path, source, out):
    config = load_dataset_config(config_path)
    counts = prepare(config, source, out, config_path).rows
    schema = Schema.load(out)
    return counts, schema, {split: read_split(out, split, schema) for split in ("train", "valid", "test")}


def _yaml(tmp_path, text, name="dataset.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_tiktok_track1_file_is_split_reproducibly(tmp_path):
    config = CONFIGS / "datasets" / "tiktok-icme2019.yaml"
    source = DATA / "tiktok" / "final_track1_train.txt"
    counts, schema, frames = _prepared(config, source, tmp_path / "a")
    assert sum(counts.values()) == 40
    assert schema.tasks == ("finish", "like")
    raw = pd.read_csv(source, sep="\t", header=None, dtype=str)
    assert sorted(pd.concat(frames.values())["item_id"]) == sorted(raw[2])
    _prepared(config, source, tmp_path / "b")
    for split in ("train", "valid", "test"):
        assert (tmp_path / "a" / f"{split}.parquet").read_bytes() == (tmp_path / "b" / f"{split}.parquet").read_bytes()


def test_random_split_does_not_depend_on_chunk_size(tmp_path):
    path = CONFIGS / "datasets" / "tenrec-qk-video.yaml"
    source = DATA / "tenrec" / "QK-video.csv"
    config = load_dataset_config(path)
    prepare(config, source, tmp_path / "big", path)
    prepare(dataclasses.replace(config, chunk_rows=7), source, tmp_path / "small", path)
    for split in ("train", "valid", "test"):
        assert pd.read_parquet(tmp_path / "big" / f"{split}.parquet").equals(
            pd.read_parquet(tmp_path / "small" / f"{split}.parquet")
        )


def test_kuairand_joins_side_tables_drops_duplicates_derives_finish_and_splits_by_date(tmp_path):
    source = DATA / "kuairand"
    counts, schema, frames = _prepared(_yaml(tmp_path, KUAIRAND), source, tmp_path / "out")
    log = pd.read_csv(source / "log_standard_20220425_20220430.csv")
    assert sum(counts.values()) == len(log.drop_duplicates()) == len(log) - 1
    by_date = log.drop_duplicates()["date"]
    assert counts == {
        "train": int((by_date <= 20220428).sum()), "valid": int((by_date == 20220429).sum()), "test": int((by_date == 20220430).sum())
    }
    train = frames["train"]
    videos = pd.read_csv(source / "video_features_basic_pure.csv", dtype=str).set_index("video_id")
    assert (train["author_id"] == train["video_id"].map(videos["author_id"])).all()
    expected_finish = (log["play_time_ms"] >= 0.95 * log["duration_ms"]).astype(int)
    assert sorted(pd.concat(frames.values())["finish"]) == sorted(expected_finish[~log.duplicated()])


def test_tenrec_labels_are_the_configured_tasks(tmp_path):
    _, schema, frames = _prepared(CONFIGS / "datasets" / "tenrec-qk-video.yaml", DATA / "tenrec" / "QK-video.csv", tmp_path)
    assert schema.tasks == ("click", "follow", "like", "share")
    assert set(frames["train"]["click"].unique()) <= {0, 1}


def test_missing_label_column_names_the_file_and_column(tmp_path):
    config = _yaml(tmp_path, KUAIRAND.replace("[is_click, finish]", "[is_click, is_purchase]"))
    with pytest.raises(DataError, match=r"log_standard_20220425_20220430.csv: missing label column 'is_purchase'"):
        _prepared(config, DATA / "kuairand", tmp_path / "out")


def test_non_binary_label_names_the_file_and_row(tmp_path):
    source = tmp_path / "QK-video.csv"
    lines = (DATA / "tenrec" / "QK-video.csv").read_text().splitlines()
    lines[5] = ",".join(value if i != 2 else "2" for i, value in enumerate(lines[5].split(",")))  # data row 5
    source.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"QK-video.csv: row 5: label column 'click' must hold 0 or 1, found '2'"):
        _prepared(CONFIGS / "datasets" / "tenrec-qk-video.yaml", source, tmp_path / "out")


def test_empty_file_is_named(tmp_path):
    source = tmp_path / "QK-video.csv"
    source.write_text("")
    with pytest.raises(DataError, match=r"QK-video.csv: the file is empty"):
        _prepared(CONFIGS / "datasets" / "tenrec-qk-video.yaml", source, tmp_path / "out")


def test_config_naming_an_unknown_field_names_the_file_and_field(tmp_path):
    config = _yaml(tmp_path, KUAIRAND.replace("{name: author_id, side: item}", "{name: author_name, side: item}"))
    with pytest.raises(DataError, match=r"log_standard_20220425_20220430.csv: missing feature column\(s\) \['author_name'\]"):
        _prepared(config, DATA / "kuairand", tmp_path / "out")


def test_config_with_an_unknown_key_or_bad_side_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"dataset.yaml.split: unknown key\(s\) \['train_until_date'\]"):
        load_dataset_config(_yaml(tmp_path, KUAIRAND.replace("train_until:", "train_until_date:")))
    with pytest.raises(ConfigError, match=r"field 'author_id' has side 'ad'"):
        load_dataset_config(_yaml(tmp_path, KUAIRAND.replace("{name: author_id, side: item}", "{name: author_id, side: ad}")))


GIVEN = """
format: {format}
path: unused
fields:
  - {{name: user_id, side: user, column: uid}}
  - {{name: device, side: user}}
  - {{name: ad_id, side: item, column: creative}}
tasks: [click, pay]
label_columns: {{pay: converted}}
user_id_field: user_id
item_id_field: ad_id
missing_values: {missing}
split: {{method: given, files: {{train: train.{ext}, valid: valid.{ext}, test: test.{ext}}}}}
"""


def _user_files(directory, ext):
    """Three pre-split files with the user's own column names; valid and test hold one unseen user each."""
    directory.mkdir()
    frames = {
        "train": pd.DataFrame({"uid": ["u1", "u1", "u2", "u2"], "device": ["ios", None, "ios", None],
                               "creative": ["c1", "c2", "c1", "c2"], "click": [1, 0, 1, 0], "converted": [1, 0, 0, 0]}),
        "valid": pd.DataFrame({"uid": ["u1", "u9"], "device": ["ios", "web"], "creative": ["c1", "c1"],
                               "click": [0, 1], "converted": [0, 1]}),
        "test": pd.DataFrame({"uid": ["u2", "u2", "u8", "u1"], "device": [None, "ios", "ios", "ios"],
                              "creative": ["c2", "c1", "c3", "c1"], "click": [1, 1, 0, 0], "converted": [0, 0, 0, 1]}),
    }
    for split, frame in frames.items():
        if ext == "csv":
            frame.to_csv(directory / f"{split}.csv", index=False)
        else:
            frame.to_parquet(directory / f"{split}.parquet")
    return frames


@pytest.mark.parametrize(("file_format", "ext"), [("csv", "csv"), ("parquet", "parquet")])
def test_pre_split_files_with_their_own_column_names_are_taken_as_they_are(tmp_path, file_format, ext):
    frames = _user_files(tmp_path / "raw", ext)
    config_path = _yaml(tmp_path, GIVEN.format(format=file_format, ext=ext, missing="oov"))
    config = load_dataset_config(config_path)
    report = prepare(config, tmp_path / "raw", tmp_path / "out", config_path, min_count=2)
    schema = Schema.load(tmp_path / "out")
    assert report.rows == {split: len(frame) for split, frame in frames.items()}
    assert report.positives["test"] == {"click": 2, "pay": 1}
    assert report.vocabulary_sizes == {"user_id": 2, "device": 1, "ad_id": 2}
    assert report.oov_share["user_id"] == {"valid": 0.5, "test": 0.25}
    assert report.oov_share["ad_id"] == {"valid": 0.0, "test": 0.25}
    test = read_split(tmp_path / "out", "test", schema)
    assert list(test["user_id"]) == ["u2", "u2", "u8", "u1"] and list(test["pay"]) == [0, 0, 0, 1]
    assert test["device"].isna().sum() == 1
    assert "rows read: 10; exact duplicates dropped: 0" in report.lines()[0]


def test_missing_values_can_be_a_category_of_their_own(tmp_path):
    _user_files(tmp_path / "raw", "csv")
    config_path = _yaml(tmp_path, GIVEN.format(format="csv", ext="csv", missing="category"))
    report = prepare(load_dataset_config(config_path), tmp_path / "raw", tmp_path / "out", config_path, min_count=2)
    schema = Schema.load(tmp_path / "out")
    assert schema.missing_values == "category"
    assert report.vocabulary_sizes["device"] == 2  # ios, and missing (twice in train)
    assert list(read_split(tmp_path / "out", "train", schema)["device"]) == ["ios", "<missing>", "ios", "<missing>"]


def test_a_given_split_needs_a_file_per_split(tmp_path):
    text = GIVEN.format(format="csv", ext="csv", missing="oov").replace(", test: test.csv", "")
    with pytest.raises(ConfigError, match=r"split.files: a given split needs one file for each of"):
        load_dataset_config(_yaml(tmp_path, text))


def test_duplicates_dropped_are_reported(tmp_path):
    source = DATA / "kuairand"
    config_path = _yaml(tmp_path, KUAIRAND)
    report = prepare(load_dataset_config(config_path), source, tmp_path / "out", config_path, min_count=1)
    assert report.duplicates_dropped == 1
    assert report.rows_read == sum(report.rows.values()) + 1
