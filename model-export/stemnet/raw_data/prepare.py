"""Streams a raw data set into the trainer's layout: {train,valid,test}.parquet + schema.yaml, and reports what
it did.

One pass over the raw chunks: each chunk is checked (columns present, labels 0/1), its duplicates dropped when the
data set asks, its rows assigned to splits (or taken as they come from a data set split already) and appended to the
split files, so memory holds one chunk at a time. A second, streamed pass over the written splits counts what the
trainer will see: vocabulary sizes at min_count, and how many valid/test rows carry an id the train split lacks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stemnet.raw_data.dataset_config import SPLITS, DatasetConfig, SplitConfig
from stemnet.encoded_data.encoded import count_vocabularies
from stemnet.raw_data.formats import read_dataset
from stemnet.raw_data.schema import MISSING_VALUE, DataError, Schema
from stemnet.encoded_data.splits import iter_split, open_split
from stemnet.encoded_data.vocab import OOV_INDEX, arrow_strings

RANDOM_SPLIT = object()  # a chunk's rows still to be assigned to splits


@dataclass
class PrepareReport:
    min_count: int
    rows_read: int = 0
    duplicates_dropped: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    positives: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> task -> rows with label 1
    vocabulary_sizes: dict[str, int] = field(default_factory=dict)  # field -> values kept (OOV row not counted)
    oov_share: dict[str, dict[str, float]] = field(default_factory=dict)  # id field -> valid/test -> share of rows

    def lines(self) -> list[str]:
        out = [f"rows read: {self.rows_read:,}; exact duplicates dropped: {self.duplicates_dropped:,}"]
        for split in SPLITS:
            positives = ", ".join(f"{task} {count:,} ({count / max(1, self.rows[split]):.2%})"
                                  for task, count in self.positives.get(split, {}).items())
            out.append(f"{split}: {self.rows[split]:,} rows; positives: {positives}")
        sizes = ", ".join(f"{name} {size:,}" for name, size in self.vocabulary_sizes.items())
        out.append(f"vocabulary sizes at min_count {self.min_count} (train split): {sizes}")
        for name, shares in self.oov_share.items():
            out.append(f"out of vocabulary, {name}: " + ", ".join(f"{split} {share:.1%}" for split, share in shares.items()))
        return out


def prepare(config: DatasetConfig, source: Path, out_dir: Path, where: Path, min_count: int = 10) -> PrepareReport:
    """Writes the splits of `source` into `out_dir` and reports them (vocabularies at `min_count`, the trainer's
    train.min_count). `where` is the dataset config file, named in configuration errors."""
    schema = config.schema(where)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = PrepareReport(min_count=min_count,
                           positives={split: dict.fromkeys(schema.tasks, 0) for split in SPLITS})
    writers: dict[str, pq.ParquetWriter] = {}
    seen: set[int] = set()
    try:
        for path, chunk, given_split in _chunks(config, source):
            report.rows_read += len(chunk)
            if config.drops_duplicates:
                kept = _drop_seen_duplicates(chunk, seen)
                report.duplicates_dropped += len(chunk) - len(kept)
                chunk = kept
            part = _checked_columns(path, chunk, schema, config)
            if given_split is RANDOM_SPLIT:
                assignment = _assign_splits(path, chunk, config.split)
            else:
                assignment = np.full(len(part), SPLITS.index(given_split))
            for index, split in enumerate(SPLITS):
                rows = part[assignment == index]
                if rows.empty:
                    continue
                table = pa.Table.from_pandas(rows, preserve_index=False)
                if split not in writers:
                    writers[split] = pq.ParquetWriter(out_dir / f"{split}.parquet", table.schema)
                writers[split].write_table(table)
                report.rows[split] += len(rows)
                for task in schema.tasks:
                    report.positives[split][task] += int(rows[Schema.label_column(task)].sum())
    finally:
        for writer in writers.values():
            writer.close()
    empty = [split for split, count in report.rows.items() if count == 0]
    if empty:
        raise DataError(f"{source}: split(s) {empty} received no rows; check {where} split settings")
    schema.save(out_dir)
    _count_vocabularies(out_dir, schema, config.chunk_rows, report)
    return report


def _chunks(config: DatasetConfig, source: Path) -> Iterator[tuple[Path, pd.DataFrame, object]]:
    """(file, chunk, its split or RANDOM_SPLIT) for every raw chunk."""
    if config.split.method != "given":
        for path, chunk in read_dataset(config, source):
            yield path, chunk, RANDOM_SPLIT
        return
    for split in SPLITS:
        for path, chunk in read_dataset(config, source / config.split.files[split]):
            yield path, chunk, split


def _drop_seen_duplicates(chunk: pd.DataFrame, seen: set[int]) -> pd.DataFrame:
    """Drops rows identical (in every raw column) to an earlier row of any chunk."""
    hashes = pd.util.hash_pandas_object(chunk.drop(columns=["row_number"]), index=False).to_numpy()
    first_here = ~pd.Series(hashes).duplicated().to_numpy()
    new = np.fromiter((h not in seen for h in hashes), dtype=bool, count=len(hashes))
    keep = first_here & new
    seen.update(hashes[keep].tolist())
    return chunk[keep].reset_index(drop=True)


def _checked_columns(path: Path, chunk: pd.DataFrame, schema: Schema, config: DatasetConfig) -> pd.DataFrame:
    """The field columns under the fields' names (strings; missing kept as None, or MISSING_VALUE when missing is a
    category) and the label columns under the tasks' names, as int8."""
    missing = [f.source_column for f in config.fields if f.source_column not in chunk.columns]
    if missing:
        raise DataError(f"{path}: missing feature column(s) {missing} named by the dataset config")
    absent = MISSING_VALUE if schema.missing_values == "category" else None
    part = pd.DataFrame({f.name: chunk[f.source_column].astype(object).where(chunk[f.source_column].notna(), absent)
                         for f in config.fields})
    for task in schema.tasks:
        column = config.label_column(task)
        if column not in chunk.columns:
            raise DataError(f"{path}: missing label column {column!r}")
        values = pd.to_numeric(chunk[column], errors="coerce")
        bad = ~values.isin([0, 1])
        if bad.any():
            row = int(chunk["row_number"][bad.to_numpy()].iloc[0])
            raise DataError(f"{path}: row {row}: label column {column!r} must hold 0 or 1, found {chunk[column][bad].iloc[0]!r}")
        part[Schema.label_column(task)] = values.astype(np.int8)
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


def _count_vocabularies(out_dir: Path, schema: Schema, chunk_rows: int, report: PrepareReport) -> None:
    vocabs = count_vocabularies(open_split(out_dir, "train", schema), schema, report.min_count, chunk_rows)
    report.vocabulary_sizes = {name: vocab.size - 1 for name, vocab in vocabs.items()}
    id_fields = [schema.user_id_field, schema.item_id_field]
    for name in id_fields:
        report.oov_share[name] = {}
    for split in ("valid", "test"):
        unknown, rows = dict.fromkeys(id_fields, 0), 0
        for chunk in iter_split(open_split(out_dir, split, schema), schema, chunk_rows, columns=id_fields):
            rows += len(chunk)
            for name in id_fields:
                indices = vocabs[name].encode_strings(arrow_strings(chunk.table.column(name)))
                unknown[name] += int((indices == OOV_INDEX).sum())
        for name in id_fields:
            report.oov_share[name][split] = unknown[name] / max(1, rows)
