"""Encoded splits as int arrays, and batched torch loaders over them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from stemnet.data.schema import Schema
from stemnet.data.vocab import OOV_INDEX, Vocabulary


@dataclass(frozen=True)
class EncodedSplit:
    ids: np.ndarray  # [N, F] int64 row indices per field, in schema field order
    labels: np.ndarray  # [N, T] float32
    true_probs: Optional[np.ndarray]  # [N, T] generator probabilities, when the data has them

    def __len__(self) -> int:
        return len(self.ids)


def build_vocabularies(train: pd.DataFrame, schema: Schema, min_count: int) -> dict[str, Vocabulary]:
    return {name: Vocabulary.build(train[name], min_count) for name in schema.field_names}


def encode_split(frame: pd.DataFrame, schema: Schema, vocabs: dict[str, Vocabulary]) -> EncodedSplit:
    ids = np.stack([vocabs[name].encode(frame[name]) for name in schema.field_names], axis=1)
    # Copies: torch tensors need writable arrays, and pandas may hand out read-only views.
    labels = frame[[Schema.label_column(t) for t in schema.tasks]].to_numpy(dtype=np.float32, copy=True)
    prob_columns = [Schema.probability_column(t) for t in schema.tasks]
    has_probs = all(c in frame.columns for c in prob_columns)
    true_probs = frame[prob_columns].to_numpy(dtype=np.float32, copy=True) if has_probs else None
    return EncodedSplit(ids=ids, labels=labels, true_probs=true_probs)


class _BatchedSplit(Dataset):
    """Indexed by a whole batch of row indices, so no per-row collation is needed."""

    def __init__(self, split: EncodedSplit):
        self.ids = torch.from_numpy(split.ids)
        self.labels = torch.from_numpy(split.labels)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.as_tensor(rows)
        return self.ids[index], self.labels[index]


def oov_dropout(ids: torch.Tensor, probability: float) -> torch.Tensor:
    """`ids` with each entry independently replaced by OOV_INDEX with `probability`.

    Without it an OOV row is never trained when every value of a field clears min_count, and
    unseen values are scored with a random-init row instead of an average one."""
    if probability <= 0.0:
        return ids
    drop = torch.rand(ids.shape, device=ids.device) < probability
    return ids.masked_fill(drop, OOV_INDEX)


def make_loader(split: EncodedSplit, batch_size: int, shuffle: bool, seed: int = 0) -> DataLoader:
    dataset = _BatchedSplit(split)
    if shuffle:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    else:
        sampler = SequentialSampler(dataset)
    return DataLoader(dataset, sampler=BatchSampler(sampler, batch_size, drop_last=False), batch_size=None)
