"""Reads one split's Parquet file and checks it has what the schema promises."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stemnet.data.schema import DataError, Schema


def read_split(data_dir: Path, split: str, schema: Schema) -> pd.DataFrame:
    path = data_dir / f"{split}.parquet"
    if not path.is_file():
        raise DataError(f"{path}: split file not found")
    try:
        frame = pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException) as error:
        raise DataError(f"{path}: not a readable Parquet file: {error}") from error
    if frame.empty:
        raise DataError(f"{path}: the file has no rows")
    _check_columns(path, frame, schema)
    return frame


def _check_columns(path: Path, frame: pd.DataFrame, schema: Schema) -> None:
    missing_fields = [name for name in schema.field_names if name not in frame.columns]
    if missing_fields:
        raise DataError(f"{path}: missing feature column(s) {missing_fields}")
    for task in schema.tasks:
        column = Schema.label_column(task)
        if column not in frame.columns:
            raise DataError(f"{path}: missing label column {column!r}")
        labels = frame[column]
        if labels.isna().any() or not labels.isin([0, 1]).all():
            bad = sorted(set(labels.dropna().unique().tolist()) - {0, 1})[:5]
            raise DataError(f"{path}: label column {column!r} must hold only 0/1, found {bad or 'missing values'}")
