"""Per-field vocabularies: value -> row index, with index 0 reserved for OOV and missing values."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

OOV_INDEX = 0


class Vocabulary:
    def __init__(self, values: list[str]):
        self.values = values
        self._index = pd.Index(values, dtype=object)

    @property
    def size(self) -> int:
        """Rows this field needs in an embedding table, the OOV row included."""
        return len(self.values) + 1

    @classmethod
    def build(cls, column: pd.Series, min_count: int) -> "Vocabulary":
        """Keeps values seen at least `min_count` times, most frequent first (ties by value)."""
        counter = ValueCounter()
        counter.add(_as_strings(column))
        return counter.vocabulary(min_count)

    def encode(self, values: Iterable[Optional[object]]) -> np.ndarray:
        """Row indices of `values`; unknown and missing values both become OOV_INDEX."""
        return self.encode_strings(_as_strings(pd.Series(values, dtype=object)))

    def encode_strings(self, strings: pd.Series) -> np.ndarray:
        """`encode` for values already converted by `as_strings`/`arrow_strings` (None = missing)."""
        # get_indexer gives -1 for values not in the vocabulary (None included): +1 lands them on OOV_INDEX.
        return self._index.get_indexer(strings.to_numpy(dtype=object)).astype(np.int64) + 1

    def write(self, path: Path) -> None:
        bad = [v for v in self.values if "\n" in v or "\r" in v]
        if bad:
            raise ValueError(f"{path}: vocabulary values with line breaks cannot be exported: {bad[:3]!r}")
        path.write_text("".join(f"{v}\n" for v in self.values), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> "Vocabulary":
        text = path.read_text(encoding="utf-8")
        return cls(text.split("\n")[:-1] if text else [])


class ValueCounter:
    """Counts one field's values chunk by chunk, so a vocabulary never needs the whole column.

    Memory grows with the number of distinct values, not with the number of rows."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, strings: pd.Series) -> None:
        for value, count in strings.value_counts(dropna=True).items():
            self.counts[value] = self.counts.get(value, 0) + int(count)

    def vocabulary(self, min_count: int) -> Vocabulary:
        kept = [(value, count) for value, count in self.counts.items() if count >= min_count]
        kept.sort(key=lambda item: (-item[1], item[0]))
        return Vocabulary([value for value, _ in kept])


def as_strings(column: pd.Series) -> pd.Series:
    """The values as the bundle contract compares them: str(value), None where missing."""
    return _as_strings(column)


def arrow_strings(array: pa.Array | pa.ChunkedArray) -> pd.Series:
    """`as_strings` of an Arrow column without a Python call per value where the type allows.

    Integer columns are cast by Arrow ("7"), whatever the chunk's nulls: the per-value path would
    see a column with nulls as floats and write "7.0" in one chunk and "7" in the next."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_integer(array.type):
        array = pc.cast(array, pa.string())
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return pd.Series(array.to_numpy(zero_copy_only=False), dtype=object)
    return _as_strings(pd.Series(array.to_pylist(), dtype=object))


def _as_strings(column: pd.Series) -> pd.Series:
    # The bundle contract: 7 and "7" are the same value, so every value is counted as str().
    return column.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
