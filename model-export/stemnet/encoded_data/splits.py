"""Reads one split's Parquet file chunk by chunk and checks it has what the schema promises.

`open_split` checks what the file's metadata can tell (readable, has rows, has the columns)
without reading any rows, so training can refuse a bad directory before its first pass.
`iter_split` then streams the rows in chunks of at most `chunk_rows`, checking the labels of
each chunk and naming the file row of the first bad value.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stemnet.raw_data.schema import DataError, Schema

DEFAULT_CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class SplitFile:
    path: Path
    rows: int
    has_probabilities: bool  # the generator's p_<task> columns, for the Bayes-optimal AUC
    columns: tuple[str, ...]  # every column of the file, in file order


@dataclass(frozen=True)
class SplitChunk:
    first_row: int  # 1-based row of the file of the chunk's first row
    table: pa.RecordBatch  # the requested columns, labels checked

    def __len__(self) -> int:
        return self.table.num_rows


def split_path(data_dir: Path, split: str) -> Path:
    return Path(data_dir) / f"{split}.parquet"


def open_split(data_dir: Path, split: str, schema: Schema) -> SplitFile:
    path = split_path(data_dir, split)
    if not path.is_file():
        raise DataError(f"{path}: split file not found")
    try:
        source = pq.ParquetFile(path)
        metadata, columns = source.metadata, source.schema_arrow.names
    except (OSError, pa.ArrowException) as error:
        raise DataError(f"{path}: not a readable Parquet file: {error}") from error
    if metadata.num_rows == 0:
        raise DataError(f"{path}: the file has no rows")
    missing_fields = [name for name in schema.field_names if name not in columns]
    if missing_fields:
        raise DataError(f"{path}: missing feature column(s) {missing_fields}")
    for task in schema.tasks:
        if Schema.label_column(task) not in columns:
            raise DataError(f"{path}: missing label column {Schema.label_column(task)!r}")
    has_probabilities = all(Schema.probability_column(t) in columns for t in schema.tasks)
    return SplitFile(path=path, rows=metadata.num_rows, has_probabilities=has_probabilities, columns=tuple(columns))


def iter_split(
    split: SplitFile, schema: Schema, chunk_rows: int = DEFAULT_CHUNK_ROWS, columns: Optional[list[str]] = None
) -> Iterator[SplitChunk]:
    """The file's rows in chunks of at most `chunk_rows`; `columns` defaults to the fields, the
    labels and (when present) the true probabilities. Label columns read are checked to hold 0/1."""
    wanted = columns if columns is not None else split_columns(split, schema)
    labels = [c for c in (Schema.label_column(t) for t in schema.tasks) if c in wanted]
    first_row = 1
    try:
        for batch in pq.ParquetFile(split.path).iter_batches(batch_size=chunk_rows, columns=wanted):
            for column in labels:
                _check_labels(split.path, column, batch.column(column), first_row)
            yield SplitChunk(first_row=first_row, table=batch)
            first_row += batch.num_rows
    except (OSError, pa.ArrowException) as error:
        raise DataError(f"{split.path}: not a readable Parquet file: {error}") from error


def split_columns(split: SplitFile, schema: Schema) -> list[str]:
    columns = schema.field_names + [Schema.label_column(t) for t in schema.tasks]
    if split.has_probabilities:
        columns += [Schema.probability_column(t) for t in schema.tasks]
    return columns


def read_split(data_dir: Path, split: str, schema: Schema, max_rows: Optional[int] = None) -> pd.DataFrame:
    """The split (or its first `max_rows` rows) as one frame, checked like `iter_split`: for
    small uses such as parity fixtures and tests; training streams with `iter_split` instead."""
    source = open_split(data_dir, split, schema)
    chunk_rows = min(max_rows, DEFAULT_CHUNK_ROWS) if max_rows else DEFAULT_CHUNK_ROWS
    batches, rows = [], 0
    for chunk in iter_split(source, schema, chunk_rows, columns=list(source.columns)):
        batches.append(chunk.table)
        rows += len(chunk)
        if max_rows is not None and rows >= max_rows:
            break
    frame = pa.Table.from_batches(batches).to_pandas()
    return frame if max_rows is None else frame.head(max_rows)


def _check_labels(path: Path, column: str, values: pa.Array, first_row: int) -> None:
    numbers = values.to_numpy(zero_copy_only=False)
    bad = ~np.isin(numbers, [0, 1])  # NaN and None are not in [0, 1] either
    if bad.any():
        row = first_row + int(np.flatnonzero(bad)[0])
        found = sorted({v for v in numbers[bad].tolist() if v is not None and v == v})[:5]
        raise DataError(
            f"{path}: label column {column!r} must hold only 0/1, found {found or 'missing values'} (first at row {row})"
        )
