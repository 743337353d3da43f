"""Streams the Parquet splits into what training reads: vocabularies counted chunk by chunk, and
each split encoded chunk by chunk into memory-mapped arrays in a temporary directory.

Memory holds one chunk (`train.chunk_rows` rows) while counting and encoding, whatever the
file's size; the vocabulary counts grow with the number of distinct values only. On disk a
split takes rows x (4 bytes per field + 4 or 8 bytes per task).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional

import numpy as np

from stemnet.encoded_data.dataset import EncodedSplit, MappedFiles
from stemnet.raw_data.schema import Schema
from stemnet.encoded_data.splits import SplitFile, iter_split
from stemnet.encoded_data.vocab import ValueCounter, Vocabulary, arrow_strings

TEMP_PREFIX = "stemnet-encoded-"


def count_vocabularies(split: SplitFile, schema: Schema, min_count: int, chunk_rows: int) -> dict[str, Vocabulary]:
    counters = {name: ValueCounter() for name in schema.field_names}
    for chunk in iter_split(split, schema, chunk_rows, columns=schema.field_names):
        for name, counter in counters.items():
            counter.add(arrow_strings(chunk.table.column(name)))
    return {name: counter.vocabulary(min_count) for name, counter in counters.items()}


def encode_to_disk(
    split: SplitFile, schema: Schema, vocabs: dict[str, Vocabulary], chunk_rows: int, parent: Optional[Path] = None
) -> EncodedSplit:
    """The split encoded into a new temporary directory (under `parent`, default the system's
    temporary directory), removed when the returned split is garbage-collected."""
    directory = tempfile.TemporaryDirectory(prefix=TEMP_PREFIX, dir=parent)
    root = Path(directory.name)
    names = ("ids.i32", "labels.f32") + (("probs.f32",) if split.has_probabilities else ())
    label_columns = [Schema.label_column(t) for t in schema.tasks]
    prob_columns = [Schema.probability_column(t) for t in schema.tasks]
    rows = 0
    outputs = [open(root / name, "wb") for name in names]
    try:
        for chunk in iter_split(split, schema, chunk_rows):
            table = chunk.table
            ids = np.stack([vocabs[f].encode_strings(arrow_strings(table.column(f))) for f in schema.field_names], axis=1)
            arrays = [ids.astype("<i4"), _floats(table, label_columns)]
            if split.has_probabilities:
                arrays.append(_floats(table, prob_columns))
            for array, out in zip(arrays, outputs):
                np.ascontiguousarray(array).tofile(out)
            rows += len(chunk)
    finally:
        for out in outputs:
            out.close()
    files = MappedFiles(
        ids=root / names[0],
        labels=root / names[1],
        probs=root / names[2] if split.has_probabilities else None,
        rows=rows,
        fields=len(schema.field_names),
        tasks=len(schema.tasks),
    )
    ids, labels, probs = files.open()
    return EncodedSplit(ids=ids, labels=labels, true_probs=probs, files=files, storage=directory)


def _floats(table, columns: list[str]) -> np.ndarray:
    return np.stack([table.column(c).to_numpy(zero_copy_only=False).astype("<f4") for c in columns], axis=1)
