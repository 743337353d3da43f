"""Streams a raw data set into the trainer's layout: {train,valid,test}.parquet + schema.yaml.

One pass over the raw chunks: each chunk is checked (columns present, labels 0/1), assigned to
splits and appended to the split files, so memory holds one chunk at a time.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stemnet.data.dataset_config import DatasetConfig, SplitConfig
from stemnet.data.formats import read_dataset
from stemnet.data.schema import DataError, Schema
from stemnet.data.synthetic import SPLITS


def prepare(config: DatasetConfig, source: Path, out_dir: Path, where: Path) -> dict[str, int]:
    """Writes the splits of `source` into `out_dir`; returns rows per split. `where` is the
    dataset config file, named in configuration errors."""
    schema = config.schema(where)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    counts = dict.fromkeys(SPLITS, 0)
    try:
        for path, chunk in read_dataset(config, source):
            part = _checked_columns(path, chunk, schema, config.split)
            assignment = _assign_splits(path, chunk, config.split)
            for index, split in enumerate(SPLITS):
                rows = part[assignment == index]
                if rows.empty:
                    continue
                table = pa.Table.from_pandas(rows, preserve_index=False)
                if split not in writers:
                    writers[split] = pq.ParquetWriter(out_dir / f"{split}.parquet", table.schema)
                writers[split].write_table(table)
                counts[split] += len(rows)
    finally:
        for writer in writers.values():
            writer.close()
    empty = [split for split, count in counts.items() if count == 0]
    if empty:
        raise DataError(f"{source}: split(s) {empty} received no rows; check {where} split settings")
    schema.save(out_dir)
    return counts


def _checked_columns(path: Path, chunk: pd.DataFrame, schema: Schema, split: SplitConfig) -> pd.DataFrame:
    """The field columns (strings, missing kept as None) and the label columns as int8."""
    missing = [name for name in schema.field_names if name not in chunk.columns]
    if missing:
        raise DataError(f"{path}: missing feature column(s) {missing} named by the dataset config")
    part = pd.DataFrame({name: chunk[name].astype(object).where(chunk[name].notna(), None) for name in schema.field_names})
    for task in schema.tasks:
        column = Schema.label_column(task)
        if column not in chunk.columns:
            raise DataError(f"{path}: missing label column {column!r}")
        values = pd.to_numeric(chunk[column], errors="coerce")
        bad = ~values.isin([0, 1])
        if bad.any():
            row = int(chunk["row_number"][bad.to_numpy()].iloc[0])
            raise DataError(f"{path}: row {row}: label column {column!r} must hold 0 or 1, found {chunk[column][bad].iloc[0]!r}")
        part[column] = values.astype(np.int8)
    return part


def _assign_splits(path: Path, chunk: pd.DataFrame, split: SplitConfig) -> np.ndarray:
    """Index into SPLITS for every row."""
    if split.method == "time":
        if split.column not in chunk.columns:
            raise DataError(f"{path}: missing split column {split.column!r}")
        when = pd.to_numeric(chunk[split.column], errors="coerce")
        if when.isna().any():
            row = int(chunk["row_number"][when.isna().to_numpy()].iloc[0])
            raise DataError(f"{path}: row {row}: split column {split.column!r} is not a number")
        return np.where(when <= split.train_until, 0, np.where(when <= split.valid_until, 1, 2))
    u = _uniform(chunk["row_number"].to_numpy(), split.seed)
    return np.where(u < split.valid_fraction, 1, np.where(u < split.valid_fraction + split.test_fraction, 2, 0))


def _uniform(row_numbers: np.ndarray, seed: int) -> np.ndarray:
    """A uniform [0, 1) number per row from splitmix64(seed, row): reproducible, chunk-independent."""
    x = row_numbers.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)
