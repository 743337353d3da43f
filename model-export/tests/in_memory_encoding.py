"""The in-memory encoding of a data frame: the reference the streamed, chunked encoding
(stemnet.encoded_data.encoded) is checked against, and a quick way to encode a few rows in a test."""
from __future__ import annotations

import numpy as np
import pandas as pd

from stemnet.encoded_data.dataset import EncodedSplit
from stemnet.raw_data.schema import Schema
from stemnet.encoded_data.vocab import Vocabulary


def build_vocabularies(train: pd.DataFrame, schema: Schema, min_count: int) -> dict[str, Vocabulary]:
    """Vocabularies from the whole column at once; training counts chunk by chunk."""
    return {name: Vocabulary.build(train[name], min_count) for name in schema.field_names}


def encode_split(frame: pd.DataFrame, schema: Schema, vocabs: dict[str, Vocabulary]) -> EncodedSplit:
    """A frame encoded in memory; training encodes to disk chunk by chunk."""
    ids = np.stack([vocabs[name].encode(frame[name]) for name in schema.field_names], axis=1)
    # Copies: torch tensors need writable arrays, and pandas may hand out read-only views.
    labels = frame[[Schema.label_column(t) for t in schema.tasks]].to_numpy(dtype=np.float32, copy=True)
    prob_columns = [Schema.probability_column(t) for t in schema.tasks]
    has_probs = all(c in frame.columns for c in prob_columns)
    true_probs = frame[prob_columns].to_numpy(dtype=np.float32, copy=True) if has_probs else None
    return EncodedSplit(ids=ids, labels=labels, true_probs=true_probs)
