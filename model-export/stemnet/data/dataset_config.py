"""The description of a raw data set (dataset YAML): where it is, its format, its feature
schema, its tasks and how to split it. `python -m stemnet prepare` turns it into the
train/valid/test Parquet splits and schema.yaml the trainer reads."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from stemnet.config import ConfigError, build_checked, read_yaml_mapping
from stemnet.data.schema import DataError, FieldSpec, Schema

FORMATS = ("csv", "tsv", "parquet", "tiktok", "kuairand", "tenrec")
SPLIT_METHODS = ("random", "time")


@dataclass(frozen=True)
class FieldConfig:
    name: str
    side: str
    # Only categorical fields are modelled; bucketise numeric columns (e.g. KuaiRand's *_range).
    categorical: bool = True


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

    def schema(self, where: Path) -> Schema:
        schema = Schema(
            fields=tuple(FieldSpec(f.name, f.side) for f in self.fields),
            tasks=tuple(self.tasks),
            user_id_field=self.user_id_field,
            item_id_field=self.item_id_field,
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
    numeric = [f.name for f in config.fields if not f.categorical]
    if numeric:
        raise ConfigError(f"{path}: fields {numeric}: only categorical fields are supported; bucketise them first")
    config.schema(path)
    return config
