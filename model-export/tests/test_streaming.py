"""Training streams its data: chunked reads, encoded splits memory-mapped, a bounded shuffle
buffer, and the same batches whatever the number of DataLoader workers."""
import dataclasses
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from in_memory_encoding import build_vocabularies, encode_split
from stemnet.encoded_data.dataset import BLOCKS_PER_BUFFER, ShuffledBatches, make_loader
from stemnet.encoded_data.encoded import count_vocabularies, encode_to_disk
from stemnet.raw_data.schema import FieldSpec, Schema
from stemnet.encoded_data.splits import open_split, read_split
from stemnet.encoded_data.vocab import arrow_strings
from stemnet.train import train


def _with(config, **train_changes):
    return dataclasses.replace(config, train=dataclasses.replace(config.train, **train_changes))


def _small_model(config):
    """A model so small that a training step costs little next to reading the data."""
    model = dataclasses.replace(config.model, embedding_dim=4, expert_hidden=[8], gate_hidden=[8], tower_hidden=[8])
    return dataclasses.replace(config, model=model)


def _write_data(root: Path, train_rows: int, seed: int = 0) -> Schema:
    """A data directory with `train_rows` random training rows and small valid/test splits."""
    rng = np.random.default_rng(seed)
    fields = {"user_id": ("user", 2000), "device": ("user", 5), "ad_id": ("item", 500), "category": ("item", 30)}
    schema = Schema(
        fields=tuple(FieldSpec(name, side) for name, (side, _) in fields.items()),
        tasks=("click", "buy"),
        user_id_field="user_id",
        item_id_field="ad_id",
    )
    root.mkdir(parents=True, exist_ok=True)
    schema.save(root)
    for split, rows in (("train", train_rows), ("valid", 2000), ("test", 2000)):
        frame = pd.DataFrame({name: np.char.add(f"{name}_", rng.integers(0, k, rows).astype(str)) for name, (_, k) in fields.items()})
        frame["click"] = (rng.random(rows) < 0.2).astype(np.int8)
        frame["buy"] = (rng.random(rows) < 0.05).astype(np.int8)
        frame.to_parquet(root / f"{split}.parquet", index=False, row_group_size=10_000)
    return schema


def test_vocabularies_counted_chunk_by_chunk_equal_the_whole_column_count(tiny_data):
    schema = Schema.load(tiny_data)
    streamed = count_vocabularies(open_split(tiny_data, "train", schema), schema, min_count=3, chunk_rows=997)
    whole = build_vocabularies(read_split(tiny_data, "train", schema), schema, min_count=3)
    assert {name: v.values for name, v in streamed.items()} == {name: v.values for name, v in whole.items()}


def test_integer_values_read_the_same_in_chunks_with_and_without_nulls():
    # A chunk with a null would go through pandas as floats ("7.0"); the same id must stay "7".
    with_null = pa.array([7, None, 12], type=pa.int64())
    without = pa.array([7, 12], type=pa.int64())
    assert arrow_strings(with_null).tolist() == ["7", None, "12"]
    assert arrow_strings(without).tolist() == ["7", "12"]
    assert arrow_strings(pa.array(["7", None], type=pa.large_string())).tolist() == ["7", None]


def test_a_split_encoded_to_disk_equals_the_in_memory_encoding(tiny_data):
    schema = Schema.load(tiny_data)
    vocabs = count_vocabularies(open_split(tiny_data, "train", schema), schema, min_count=3, chunk_rows=5000)
    on_disk = encode_to_disk(open_split(tiny_data, "test", schema), schema, vocabs, chunk_rows=701)
    in_memory = encode_split(read_split(tiny_data, "test", schema), schema, vocabs)
    assert isinstance(on_disk.ids, np.memmap) and isinstance(on_disk.labels, np.memmap)
    np.testing.assert_array_equal(on_disk.ids, in_memory.ids)
    np.testing.assert_array_equal(on_disk.labels, in_memory.labels)
    np.testing.assert_array_equal(on_disk.true_probs, in_memory.true_probs)


def _order(sampler: ShuffledBatches, epoch: int) -> np.ndarray:
    sampler.set_epoch(epoch)
    return np.concatenate(list(sampler))


def test_shuffled_batches_visit_every_row_once_in_an_order_set_by_seed_and_epoch():
    sampler = ShuffledBatches(rows=10_007, batch_size=256, buffer_rows=1_000, seed=3)
    first = _order(sampler, 1)
    assert np.array_equal(np.sort(first), np.arange(10_007))
    assert len(list(sampler)) == len(sampler) == 40
    assert np.array_equal(first, _order(ShuffledBatches(10_007, 256, 1_000, seed=3), 1))
    assert not np.array_equal(first, _order(sampler, 2))
    assert not np.array_equal(first, _order(ShuffledBatches(10_007, 256, 1_000, seed=4), 1))


def test_a_shuffle_buffer_smaller_than_the_split_draws_each_pool_from_a_few_blocks():
    # The bound that keeps memory flat: the first buffer's worth of rows comes from
    # BLOCKS_PER_BUFFER blocks, not from all over a permutation of the whole split.
    buffer_rows = 6_400
    order = _order(ShuffledBatches(rows=640_000, batch_size=100, buffer_rows=buffer_rows, seed=0), 1)
    block_rows = buffer_rows // BLOCKS_PER_BUFFER
    assert len(np.unique(order[:buffer_rows] // block_rows)) == BLOCKS_PER_BUFFER
    assert len(np.unique(np.random.default_rng(0).permutation(640_000)[:buffer_rows] // block_rows)) > 10 * BLOCKS_PER_BUFFER


def test_a_buffer_as_large_as_the_split_shuffles_it_whole():
    order = _order(ShuffledBatches(rows=50_000, batch_size=512, buffer_rows=50_000, seed=0), 1)
    first_batch = order[:512]
    assert first_batch.min() < 5_000 and first_batch.max() > 45_000


def test_the_loader_gives_the_same_batches_with_and_without_worker_processes(tiny_data):
    schema = Schema.load(tiny_data)
    vocabs = count_vocabularies(open_split(tiny_data, "train", schema), schema, min_count=3, chunk_rows=5000)
    split = encode_to_disk(open_split(tiny_data, "valid", schema), schema, vocabs, chunk_rows=5000)

    def batches(num_workers):
        loader = make_loader(split, 100, shuffle=True, seed=5, shuffle_buffer_rows=640, num_workers=num_workers)
        assert loader.persistent_workers == (num_workers > 0)
        epochs = []
        for epoch in (1, 2):
            loader.sampler.set_epoch(epoch)
            epochs.append(list(loader))
        return epochs

    in_process = batches(0)
    assert len(in_process[0]) == 30 and in_process[0][0][0].dtype == torch.int64
    assert not torch.equal(in_process[0][0][0], in_process[1][0][0])  # each epoch its own order
    for run in (batches(2), batches(2)):
        for expected_epoch, epoch in zip(in_process, run):
            assert len(epoch) == len(expected_epoch)
            for (ids_a, labels_a), (ids_b, labels_b) in zip(expected_epoch, epoch):
                assert torch.equal(ids_a, ids_b) and torch.equal(labels_a, labels_b)


def test_training_with_worker_processes_ends_with_the_weights_of_in_process_loading(tiny_config, tiny_data):
    config = _with(_small_model(tiny_config), epochs=1, batch_size=4096, shuffle_buffer_rows=5_000)
    with_workers, in_process = (train(_with(config, num_workers=n), tiny_data).model.state_dict() for n in (2, 0))
    for name, tensor in with_workers.items():
        assert torch.equal(tensor, in_process[name]), name


def test_training_reads_the_train_file_chunk_by_chunk_and_never_whole(tiny_config, tiny_data, monkeypatch):
    reads: list[int] = []
    real_iter_batches = pq.ParquetFile.iter_batches

    def spying_iter_batches(self, *args, **kwargs):
        for batch in real_iter_batches(self, *args, **kwargs):
            if self.metadata.num_rows == len(read_rows_of_train) and batch.num_rows:
                reads.append(batch.num_rows)
            yield batch

    def whole_file_read(*args, **kwargs):
        raise AssertionError("a whole Parquet file was read")

    read_rows_of_train = range(pq.ParquetFile(tiny_data / "train.parquet").metadata.num_rows)
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spying_iter_batches)
    for name in ("read", "read_row_group", "read_row_groups"):
        monkeypatch.setattr(pq.ParquetFile, name, whole_file_read)
    monkeypatch.setattr(pq, "read_table", whole_file_read)
    monkeypatch.setattr(pd, "read_parquet", whole_file_read)

    config = _with(_small_model(tiny_config), epochs=1, batch_size=4096, chunk_rows=1_000, shuffle_buffer_rows=4_000)
    result = train(config, tiny_data)
    assert max(reads) == 1_000
    # One pass to count the vocabularies, one to encode: every row twice, never more at once.
    assert sum(reads) == 2 * len(read_rows_of_train)
    assert result.epochs_trained == 1


def test_peak_memory_of_training_does_not_grow_with_the_train_file(tiny_config, tmp_path):
    """tracemalloc sees numpy arrays and Python objects (not Arrow's or torch's own buffers): the
    in-memory pipeline's frames of strings and encoded arrays grew with the file, about 0.15 kB
    per row here (3.8 MB peak at 20k rows, 15 MB at 100k); streaming stays at one chunk."""
    config = _with(_small_model(tiny_config), epochs=1, batch_size=8192, chunk_rows=5_000, shuffle_buffer_rows=20_000)
    train(config, _with_schema(tmp_path / "warm-up", 2_000))  # first-use imports and caches, not data
    peaks = {}
    for rows in (20_000, 100_000):
        data = _with_schema(tmp_path / f"rows-{rows}", rows)
        tracemalloc.start()
        try:
            train(config, data)
            peaks[rows] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peaks[100_000] < 1.25 * peaks[20_000] + 256 * 1024, peaks


def _with_schema(root: Path, rows: int) -> Path:
    _write_data(root, rows)
    return root
