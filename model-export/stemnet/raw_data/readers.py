"""Streaming readers: a file as an iterator of pandas chunks, never the whole file at once.

Parquet is read as pyarrow record batches, CSV/TSV with pandas' chunked reader. Every value is
read as a string (the bundle contract counts values as str()); label columns are converted and
checked later. Errors name the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stemnet.raw_data.schema import DataError

DEFAULT_CHUNK_ROWS = 200_000


def iter_chunks(
    path: Path,
    columns: Optional[list[str]] = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    separator: str = ",",
    header_names: Optional[list[str]] = None,
) -> Iterator[pd.DataFrame]:
    """Chunks of `path` (Parquet by suffix, else delimited text). `header_names` names the
    columns of a file without a header line. Each chunk carries `row_number`, the 1-based row of
    the file (data rows only), for error messages."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    chunks = _parquet_chunks(path, columns, chunk_rows) if path.suffix == ".parquet" else _text_chunks(
        path, columns, chunk_rows, separator, header_names
    )
    first_row, seen_any = 1, False
    for chunk in chunks:
        if chunk.empty:
            continue
        seen_any = True
        chunk = chunk.reset_index(drop=True)
        chunk["row_number"] = range(first_row, first_row + len(chunk))
        first_row += len(chunk)
        yield chunk
    if not seen_any:
        raise DataError(f"{path}: the file has no data rows")


def _parquet_chunks(path: Path, columns: Optional[list[str]], chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        source = pq.ParquetFile(path)
        _require_columns(path, source.schema_arrow.names, columns)
        for batch in source.iter_batches(batch_size=chunk_rows, columns=columns):
            yield batch.to_pandas().astype("string").astype(object)
    except (OSError, pa.ArrowException) as error:
        raise DataError(f"{path}: not a readable Parquet file: {error}") from error


def _text_chunks(
    path: Path, columns: Optional[list[str]], chunk_rows: int, separator: str, header_names: Optional[list[str]]
) -> Iterator[pd.DataFrame]:
    options = dict(sep=separator, dtype=str, keep_default_na=False, na_values=[""], chunksize=chunk_rows)
    if header_names is not None:
        options.update(header=None, names=header_names)
    try:
        with pd.read_csv(path, **options) as reader:
            for i, chunk in enumerate(reader):
                if i == 0:
                    _require_columns(path, list(chunk.columns), columns)
                yield chunk if columns is None else chunk[columns]
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot parse: {error}") from error
    except pd.errors.EmptyDataError as error:
        raise DataError(f"{path}: the file has no data rows") from error


def _require_columns(path: Path, present: list[str], wanted: Optional[list[str]]) -> None:
    missing = [c for c in (wanted or []) if c not in present]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; the file has {present}")
