"""The description of a raw data set (dataset YAML): where it is, its format, its feature
schema, its tasks and how to split it. `python -m stemnet prepare` turns it into the
train/valid/test Parquet splits and schema.yaml the trainer reads."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from stemnet.config import ConfigError, build_checked, read_yaml_mapping
from stemnet.raw_data.schema import DataError, FieldSpec, Schema

FORMATS = ("csv", "tsv", "parquet", "tiktok", "kuairand", "tenrec")
SPLIT_METHODS = ("random", "time", "given")
SPLITS = ("train", "valid", "test")
MISSING_VALUE_MODES = ("oov", "category")


@dataclass(frozen=True)
class FieldConfig:
    name: str
    side: str
    # The raw column it comes from, when the name differs (e.g. `{name: ad_id, side: item, column: creativeId}`).
    column: Optional[str] = None
    # Only categorical fields are modelled; bucketise numeric columns (e.g. KuaiRand's *_range).
    categorical: bool = True

    @property
    def source_column(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class SplitConfig:
    method: str = "random"
    # random: each row lands in a split by a hash of (seed, row number), so it is reproducible
    # and independent of chunk sizes.
    seed: int = 0
    valid_fraction: float = 0.1
    test_fraction: float = 0.1
    # time: rows with column <= train_until train, <= valid_until validate, the rest test
    # (values compared as numbers, e.g. yyyymmdd dates).
    column: Optional[str] = None
    train_until: Optional[int] = None
    valid_until: Optional[int] = None
    # given: the data set is split already; one file per split, relative to the dataset's path (a directory),
    # e.g. {train: train.csv, valid: valid.csv, test: test.csv}.
    files: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetConfig:
    format: str
    # A file, or for kuairand a directory; a relative path is taken from the working directory.
    path: str
    fields: list[FieldConfig]
    tasks: list[str]
    user_id_field: str
    item_id_field: str
    split: SplitConfig = field(default_factory=SplitConfig)
    chunk_rows: int = 200_000
    # The raw column of each task's 0/1 label, when it is not the task's name (e.g. {pay: converted}).
    label_columns: dict[str, str] = field(default_factory=dict)
    # oov: a missing value scores with the field's out-of-vocabulary row, like an unseen one; category: missing is a
    # value of its own (schema.MISSING_VALUE), with its own row once it clears min_count (the service maps a
    # missing feature to it too).
    missing_values: str = "oov"
    # Drop rows identical in every raw column to an earlier row. Unset: only for kuairand, whose logs repeat rows.
    drop_duplicates: Optional[bool] = None

    def label_column(self, task: str) -> str:
        return self.label_columns.get(task, task)

    @property
    def drops_duplicates(self) -> bool:
        return self.format == "kuairand" if self.drop_duplicates is None else self.drop_duplicates

    def schema(self, where: Path) -> Schema:
        schema = Schema(
            fields=tuple(FieldSpec(f.name, f.side) for f in self.fields),
            tasks=tuple(self.tasks),
            user_id_field=self.user_id_field,
            item_id_field=self.item_id_field,
            missing_values=self.missing_values,
        )
        try:
            schema.validate(where)
        except DataError as error:
            raise ConfigError(str(error)) from error
        return schema


def load_dataset_config(path: Path) -> DatasetConfig:
    raw = read_yaml_mapping(path, "a dataset description mapping")
    config = build_checked(DatasetConfig, raw, str(path))
    if config.format not in FORMATS:
        raise ConfigError(f"{path}: format: unknown format {config.format!r}; known: {list(FORMATS)}")
    if config.split.method not in SPLIT_METHODS:
        raise ConfigError(f"{path}: split.method: expected one of {list(SPLIT_METHODS)}, got {config.split.method!r}")
    if config.split.method == "time" and None in (config.split.column, config.split.train_until, config.split.valid_until):
        raise ConfigError(f"{path}: split: a time split needs column, train_until and valid_until")
    if config.split.method == "given":
        if sorted(config.split.files) != sorted(SPLITS):
            raise ConfigError(f"{path}: split.files: a given split needs one file for each of {list(SPLITS)}, "
                              f"got {sorted(config.split.files)}")
        if config.format not in ("csv", "tsv", "parquet"):
            raise ConfigError(f"{path}: split: a given split reads csv, tsv or parquet files, not {config.format!r}")
    elif config.split.files:
        raise ConfigError(f"{path}: split.files: only a given split names files")
    if config.missing_values not in MISSING_VALUE_MODES:
        raise ConfigError(f"{path}: missing_values: expected one of {list(MISSING_VALUE_MODES)}, "
                          f"got {config.missing_values!r}")
    unknown_tasks = sorted(set(config.label_columns) - set(config.tasks))
    if unknown_tasks:
        raise ConfigError(f"{path}: label_columns: {unknown_tasks} are not tasks {config.tasks}")
    numeric = [f.name for f in config.fields if not f.categorical]
    if numeric:
        raise ConfigError(f"{path}: fields {numeric}: only categorical fields are supported; bucketise them first")
    config.schema(path)
    return config
