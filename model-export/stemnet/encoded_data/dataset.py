"""Encoded splits as int arrays (in memory, or memory-mapped from disk by `encoded.py`), and
batched torch loaders over them whose memory does not grow with the split."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from stemnet.encoded_data.vocab import OOV_INDEX

DEFAULT_SHUFFLE_BUFFER_ROWS = 1_000_000
# A shuffle buffer pools this many blocks of the split: enough that a batch mixes rows from all
# over the file, few enough that the block order costs nothing to keep.
BLOCKS_PER_BUFFER = 64


@dataclass(frozen=True)
class MappedFiles:
    """The raw little-endian arrays an on-disk split maps: ids int32 [rows, fields], labels and
    probabilities float32 [rows, tasks]."""

    ids: Path
    labels: Path
    probs: Optional[Path]
    rows: int
    fields: int
    tasks: int

    def open(self) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
        ids = np.memmap(self.ids, dtype="<i4", mode="r", shape=(self.rows, self.fields))
        labels = np.memmap(self.labels, dtype="<f4", mode="r", shape=(self.rows, self.tasks))
        probs = np.memmap(self.probs, dtype="<f4", mode="r", shape=(self.rows, self.tasks)) if self.probs else None
        return ids, labels, probs


@dataclass(frozen=True)
class EncodedSplit:
    ids: np.ndarray  # [N, F] row indices per field, in schema field order
    labels: np.ndarray  # [N, T] float32
    true_probs: Optional[np.ndarray]  # [N, T] generator probabilities, when the data has them
    # Set when the arrays are memory maps: worker processes map the files instead of receiving a copy.
    files: Optional[MappedFiles] = field(default=None, compare=False, repr=False)
    # Whatever must live as long as the split (the temporary directory holding its files).
    storage: object = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.ids)


class _BatchedSplit(Dataset):
    """Indexed by a whole batch (an index array or a slice), so no per-row collation is needed."""

    def __init__(self, split: EncodedSplit):
        self._files = split.files
        self._arrays: Optional[tuple[np.ndarray, np.ndarray]] = (split.ids, split.labels)
        self._rows = len(split)

    def __getstate__(self) -> dict:
        # Pickling a memory map copies the whole array into the worker; send the file names instead.
        if self._files is None:
            return self.__dict__
        return {**self.__dict__, "_arrays": None}

    def __len__(self) -> int:
        return self._rows

    def __getitem__(self, rows: np.ndarray | slice) -> tuple[torch.Tensor, torch.Tensor]:
        if self._arrays is None:
            ids, labels, _ = self._files.open()
            self._arrays = (ids, labels)
        ids, labels = self._arrays
        return torch.from_numpy(np.array(ids[rows], dtype=np.int64)), torch.from_numpy(np.array(labels[rows], dtype=np.float32))


class ShuffledBatches(Sampler[np.ndarray]):
    """Batches of row indices, shuffled within a buffer of at most `buffer_rows` rows.

    The rows are cut into blocks of buffer_rows / BLOCKS_PER_BUFFER rows. Each epoch visits the
    blocks in a random order, pools BLOCKS_PER_BUFFER of them at a time and emits the pool's rows
    in a random order (a partial last batch carries over into the next pool). Memory holds one
    pool's indices and one number per block, whatever the split's size; a buffer at least as
    large as the split is a full shuffle. The order depends only on (seed, epoch).

    `part` = (rank, ranks) of data-parallel training: every rank draws the same batches and keeps
    rows rank, rank + ranks, ... of each (stemnet/distributed.py); the last batch is cut to a
    multiple of `ranks` rows, so no rank gets an empty one."""

    def __init__(self, rows: int, batch_size: int, buffer_rows: int, seed: int, part: tuple[int, int] = (0, 1)):
        self.rows, self.batch_size, self.seed = rows, batch_size, seed
        self.rank, self.ranks = part
        self.block_rows = max(1, buffer_rows // BLOCKS_PER_BUFFER)
        self.blocks_per_pool = max(1, buffer_rows // self.block_rows)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return math.ceil(self.rows / self.batch_size)

    def __iter__(self) -> Iterator[np.ndarray]:
        rng = np.random.default_rng([self.seed, self.epoch])
        blocks = rng.permutation(math.ceil(self.rows / self.block_rows))
        carry = np.empty(0, dtype=np.int64)
        for start in range(0, len(blocks), self.blocks_per_pool):
            pooled = blocks[start : start + self.blocks_per_pool]
            rows = (pooled[:, None] * self.block_rows + np.arange(self.block_rows)).ravel()
            pool = np.concatenate([carry, rng.permutation(rows[rows < self.rows])])
            whole = len(pool) - len(pool) % self.batch_size
            for begin in range(0, whole, self.batch_size):
                yield pool[begin + self.rank : begin + self.batch_size : self.ranks]
            carry = pool[whole:]
        carry = carry[: len(carry) - len(carry) % self.ranks]
        if len(carry):
            yield carry[self.rank :: self.ranks]


class SequentialBatches(Sampler[slice]):
    """Consecutive slices of `batch_size` rows: contiguous reads from a memory map."""

    def __init__(self, rows: int, batch_size: int):
        self.rows, self.batch_size = rows, batch_size

    def __len__(self) -> int:
        return math.ceil(self.rows / self.batch_size)

    def __iter__(self) -> Iterator[slice]:
        for start in range(0, self.rows, self.batch_size):
            yield slice(start, min(start + self.batch_size, self.rows))


def oov_dropout(ids: torch.Tensor, probability: float) -> torch.Tensor:
    """`ids` with each entry independently replaced by OOV_INDEX with `probability`.

    Without it an OOV row is never trained when every value of a field clears min_count, and
    unseen values are scored with a random-init row instead of an average one."""
    if probability <= 0.0:
        return ids
    drop = torch.rand(ids.shape, device=ids.device) < probability
    return ids.masked_fill(drop, OOV_INDEX)


def make_loader(
    split: EncodedSplit,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    shuffle_buffer_rows: int = DEFAULT_SHUFFLE_BUFFER_ROWS,
    num_workers: int = 0,
    pin_memory: bool = False,
    part: tuple[int, int] = (0, 1),
) -> DataLoader:
    """Batches of (ids int64 [B, F], labels float32 [B, T]). Shuffled: call
    `loader.sampler.set_epoch(epoch)` before each epoch; workers persist across epochs. The
    batches are the same for any `num_workers`: the order is drawn in this process, and the
    DataLoader returns the workers' batches in that order. `part`: see ShuffledBatches."""
    batches = ShuffledBatches(len(split), batch_size, shuffle_buffer_rows, seed, part) if shuffle else SequentialBatches(len(split), batch_size)
    return DataLoader(
        _BatchedSplit(split),
        sampler=batches,
        batch_size=None,
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
        worker_init_fn=seed_worker if num_workers > 0 else None,
        generator=torch.Generator().manual_seed(seed),
    )


def seed_worker(worker_id: int) -> None:
    """Seeds numpy and random in a worker from torch's per-worker seed (the loader's generator's
    base seed + worker_id), so anything random in a worker repeats with the run's seed."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)
