"""Per-field vocabularies: value -> row index, with index 0 reserved for OOV and missing values."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

import numpy as np
import pandas as pd

OOV_INDEX = 0


class Vocabulary:
    def __init__(self, values: list[str]):
        self.values = values
        self._index = {value: i + 1 for i, value in enumerate(values)}

    @property
    def size(self) -> int:
        """Rows this field needs in an embedding table, the OOV row included."""
        return len(self.values) + 1

    @classmethod
    def build(cls, column: pd.Series, min_count: int) -> "Vocabulary":
        """Keeps values seen at least `min_count` times, most frequent first (ties by value)."""
        counts = _as_strings(column).dropna().value_counts()
        kept = counts[counts >= min_count]
        ordered = sorted(kept.items(), key=lambda item: (-item[1], item[0]))
        return cls([value for value, _ in ordered])

    def encode(self, values: Iterable[Optional[object]]) -> np.ndarray:
        """Row indices of `values`; unknown and missing values both become OOV_INDEX."""
        strings = _as_strings(pd.Series(values, dtype=object))
        return strings.map(self._index).fillna(OOV_INDEX).to_numpy(dtype=np.int64)

    def write(self, path: Path) -> None:
        bad = [v for v in self.values if "\n" in v or "\r" in v]
        if bad:
            raise ValueError(f"{path}: vocabulary values with line breaks cannot be exported: {bad[:3]!r}")
        path.write_text("".join(f"{v}\n" for v in self.values), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> "Vocabulary":
        text = path.read_text(encoding="utf-8")
        return cls(text.split("\n")[:-1] if text else [])


def _as_strings(column: pd.Series) -> pd.Series:
    # The bundle contract: 7 and "7" are the same value, so every value is counted as str().
    return column.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
