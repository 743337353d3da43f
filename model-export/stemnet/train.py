"""Training loop: vocabularies from the train split, Adam, per-epoch validation, early stopping.

The splits are streamed, never loaded whole: vocabularies are counted and every split encoded
chunk by chunk into memory-mapped arrays (encoded_data/encoded.py), and batches are drawn from those
through a bounded shuffle buffer (encoded_data/dataset.py).
"""
from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from stemnet import checkpoint, distributed
from stemnet.config import Config, ConfigError
from stemnet.encoded_data.dataset import EncodedSplit, make_loader, oov_dropout
from stemnet.encoded_data.encoded import count_vocabularies, encode_to_disk
from stemnet.raw_data.schema import Schema
from stemnet.encoded_data.splits import open_split, read_split
from stemnet.encoded_data.vocab import Vocabulary
from stemnet.evaluate import average_auc, format_metrics, json_safe, predict, task_metrics
from stemnet.incremental import EMBEDDINGS_PREFIX, ServingState, check_compatible, check_layout, grow_vocabularies
from stemnet.models.base import MultiTaskModel
from stemnet.models.registry import build_model
from stemnet.models.tables import is_task_table

LOSS_SMOOTHING = 0.05
SPLITS = ("train", "valid", "test")
# Test rows kept as a frame for the bundle's parity fixtures: the whole test split of the shipped
# configs, a bounded prefix of a large one.
TEST_FRAME_ROWS = 100_000


@dataclass
class TrainingResult:
    model: MultiTaskModel
    schema: Schema
    vocabs: dict[str, Vocabulary]
    metrics: dict[str, dict]
    epochs_trained: int
    test_frame: pd.DataFrame  # the test split's first TEST_FRAME_ROWS rows, as read
    test: EncodedSplit  # the whole test split, encoded (memory-mapped)


def train(
    config: Config,
    data_dir: Path,
    checkpoint_dir: Optional[Path] = None,
    resume: bool = False,
    start: Optional[ServingState] = None,
    freeze_dense: bool = False,
    metrics_out: Optional[Path] = None,
) -> Optional[TrainingResult]:
    """Trains with early stopping; with `checkpoint_dir`, saves a checkpoint after every epoch
    and, with `resume`, continues from the one there. Under torchrun, every rank trains its share of each batch
    (stemnet/distributed.py) and only rank 0 gets a result; the others get None.

    With `start` (a bundle and its deltas, stemnet.incremental) training continues from its vocabularies, rows
    and dense weights: values that reach min_count in this data are appended to the vocabularies (known values
    keep their indices) with freshly initialised rows. `freeze_dense` trains the embedding tables only: the
    dense network keeps the start's weights bit for bit (and runs in eval mode), as a delta requires.

    `metrics_out`: a JSON-lines file, one line per epoch, split and task (`epoch`, `split`, `task`, `auc`,
    `logloss`, ...), for a notebook or a dashboard; the final lines have `"epoch": "best"`."""
    settings = config.train
    if resume and checkpoint_dir is None:
        raise ConfigError("--resume needs --checkpoint-dir")
    if freeze_dense and start is None:
        raise ConfigError("a frozen dense network needs a starting bundle (--from-bundle)")
    device = resolve_device(settings.device)
    ranks = distributed.start(device, timedelta(seconds=settings.collective_timeout_seconds))
    try:
        return _train(config, data_dir, checkpoint_dir, resume, start, freeze_dense, distributed.local_device(device),
                      ranks, MetricsLog(metrics_out if ranks.is_main else None))
    finally:
        distributed.stop(ranks)


def _train(config: Config, data_dir: Path, checkpoint_dir: Optional[Path], resume: bool,
           start: Optional[ServingState], freeze_dense: bool, device: torch.device,
           ranks: distributed.Ranks, metrics_log: "MetricsLog") -> Optional[TrainingResult]:
    settings = config.train
    if settings.batch_size < ranks.world_size:
        raise ConfigError(f"train.batch_size: {settings.batch_size} rows cannot be shared by {ranks.world_size} ranks")
    seed_everything(settings.seed)
    schema = Schema.load(data_dir)
    if start is not None:
        check_compatible(start, config, schema, data_dir)
    # Every file's metadata first: a missing column in test must not wait for a pass over train.
    sources = {split: open_split(data_dir, split, schema) for split in SPLITS}
    vocabs = count_vocabularies(sources["train"], schema, settings.min_count, settings.chunk_rows)
    if start is not None:
        vocabs = grow_vocabularies(start.vocabs, vocabs)
    # Only rank 0 evaluates: the other ranks encode the train split alone.
    encoded = ("valid", "test", "train") if ranks.is_main else ("train",)
    splits = {name: encode_to_disk(sources[name], schema, vocabs, settings.chunk_rows) for name in encoded}
    loader = make_loader(
        splits["train"],
        settings.batch_size,
        shuffle=True,
        seed=settings.seed,
        shuffle_buffer_rows=settings.shuffle_buffer_rows,
        num_workers=settings.num_workers,
        pin_memory=device.type == "cuda",
        part=(ranks.rank, ranks.world_size),
    )
    model = build_model(config.model, schema, {name: v.size for name, v in vocabs.items()})
    if start is not None:
        check_layout(model, start.manifest, start.root)
        start.load_into(model)
    model = model.to(device)
    if freeze_dense:
        for name, parameter in model.named_parameters():
            parameter.requires_grad_(name.startswith(EMBEDDINGS_PREFIX))
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=settings.learning_rate)
    loss_of = training_loss(model, settings, device)
    run_fingerprint = checkpoint.fingerprint(model, config.model.architecture)
    progress = checkpoint.load(checkpoint_dir, model, optimizer, run_fingerprint) if resume else checkpoint.Progress()

    while progress.epoch < settings.epochs and not _stopped_early(progress, settings.patience):
        epoch = progress.epoch + 1
        loader.sampler.set_epoch(epoch)
        _train_epoch(model, loss_of, optimizer, loader, config, epoch, device, ranks, dense_mode=not freeze_dense)
        score = None
        if ranks.is_main:
            validation = task_metrics(model.tasks, splits["valid"], predict(model, splits["valid"], settings.eval_batch_size, device))
            score = average_auc(validation)
            print(f"epoch {epoch} validation: mean auc={score:.4f}  {format_metrics(validation)}", flush=True)
            metrics_log.write(epoch, "valid", validation)
        score = distributed.from_main(score, ranks)
        progress.epoch = epoch
        if score > progress.best_auc:
            progress.best_auc, progress.best_state, progress.best_epoch = score, _snapshot(model), epoch
        if checkpoint_dir is not None and ranks.is_main:
            checkpoint.save(checkpoint_dir, model, optimizer, progress, run_fingerprint)
    del loader  # stops its worker processes
    if not ranks.is_main:
        return None
    if _stopped_early(progress, settings.patience):
        print(f"early stop: no improvement for {settings.patience} epoch(s); best epoch {progress.best_epoch}")
    if progress.best_state is not None:
        model.load_state_dict(progress.best_state)
    best_epoch, epoch = progress.best_epoch, progress.epoch

    metrics = {
        split: task_metrics(model.tasks, splits[split], predict(model, splits[split], settings.eval_batch_size, device))
        for split in ("valid", "test")
    }
    print(f"test (best epoch {best_epoch}): {format_metrics(metrics['test'])}", flush=True)
    for split in ("valid", "test"):
        metrics_log.write("best", split, metrics[split])
    return TrainingResult(
        model=model,
        schema=schema,
        vocabs=vocabs,
        metrics={"validation": metrics["valid"], "test": metrics["test"], "bestEpoch": best_epoch},
        epochs_trained=epoch,
        test_frame=read_split(data_dir, "test", schema, max_rows=TEST_FRAME_ROWS),
        test=splits["test"],
    )


def _stopped_early(progress: checkpoint.Progress, patience: int) -> bool:
    return progress.epoch - progress.best_epoch >= patience


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    """`auto` takes CUDA when there is a device; `cuda` without one is an error, never a silent
    fallback to a run 10-100x slower than asked for."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"train.device: 'cuda' requested but no CUDA device is available (torch {torch.__version__}, "
            f"CUDA build {torch.version.cuda or 'none'}); use --device cpu, or auto to use a GPU only when there is one"
        )
    return torch.device(name)


def training_loss(model: MultiTaskModel, settings, device: torch.device):
    """The loss a training step takes the gradient of: multitask_loss under train.precision (bf16: the matrix
    products in bfloat16 under torch.autocast, over float32 weights), compiled when train.compile. Built once per
    run, so that a compiled one is compiled once."""
    def loss(ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=settings.precision == "bf16"):
            return multitask_loss(model, ids, labels, settings.embedding_l2, settings.embedding_l2_scope,
                                  settings.task_table_l2)
    return torch.compile(loss) if settings.compile else loss


def multitask_loss(
    model: MultiTaskModel,
    ids: torch.Tensor,
    labels: torch.Tensor,
    embedding_l2: float,
    l2_scope: str = "touched_rows",
    task_table_l2: Optional[float] = None,
) -> torch.Tensor:
    """Sum over tasks of the mean BCE, the model's own penalty, and embedding L2 (config.L2_SCOPES):
    `task_table_l2` on the task-specific tables when given, `embedding_l2` on the others."""
    logits = model.dense_logits(model.embeddings(ids))
    bce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none").mean(dim=0).sum()
    per_table = model.embeddings.l2_by_table(ids if l2_scope == "touched_rows" else None)
    l2 = sum(table_l2_weight(name, embedding_l2, task_table_l2) * value for name, value in per_table.items())
    return bce + model.auxiliary_loss(logits) + l2


def table_l2_weight(table: str, embedding_l2: float, task_table_l2: Optional[float]) -> float:
    return task_table_l2 if task_table_l2 is not None and is_task_table(table) else embedding_l2


def _train_epoch(model, loss_of, optimizer, loader, config: Config, epoch: int, device: torch.device,
                 ranks: distributed.Ranks, dense_mode: bool = True) -> None:
    """One pass over the train split; rank 0 reports progress and, at the end, how the epoch's time split up."""
    # A frozen dense network stays in eval mode (dropout off, batch-norm statistics fixed): the graph must not change.
    model.train(dense_mode)
    phases = dict.fromkeys(("data", "forward/backward", "all-reduce", "optimizer"), 0.0)
    report = EpochProgress(epoch, len(loader.dataset), config.train.log_every_seconds, enabled=ranks.is_main)
    started = last = time.perf_counter()
    for ids, labels in loader:
        ids = oov_dropout(ids, config.train.oov_dropout)
        ids, labels = ids.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        last = _add_phase(phases, "data", last, device)
        loss = loss_of(ids, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        last = _add_phase(phases, "forward/backward", last, device)
        distributed.average_gradients(model, ranks)
        last = _add_phase(phases, "all-reduce", last, device)
        optimizer.step()
        value = loss.item()
        last = _add_phase(phases, "optimizer", last, device)
        report.step(len(ids) * ranks.world_size, value)
    report.close()
    seconds = time.perf_counter() - started
    samples = report.samples
    split = ", ".join(f"{name} {share / seconds:.0%}" for name, share in phases.items())
    if ranks.is_main:
        print(f"epoch {epoch} trained: {samples:,} samples in {seconds:.1f}s, {samples / seconds:,.0f} samples/s "
              f"on {ranks.world_size} rank(s) ({split})", flush=True)


def _add_phase(phases: dict[str, float], phase: str, since: float, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # otherwise the GPU's work is counted in whichever phase waits for it
    now = time.perf_counter()
    phases[phase] += now - since
    return now


class MetricsLog:
    """Appends evaluation results as JSON lines (one per epoch, split and task); does nothing without a path."""

    def __init__(self, path: Optional[Path]):
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")

    def write(self, epoch, split: str, metrics: dict[str, dict[str, float]]) -> None:
        if self.path is None:
            return
        with self.path.open("a", encoding="utf-8") as out:
            for task, values in json_safe(metrics).items():
                out.write(json.dumps({"epoch": epoch, "split": split, "task": task, **values}) + "\n")


class EpochProgress:
    """A progress bar on a terminal; elsewhere (a log file, CI, a cluster's log collector) one plain line every
    `every_seconds`: samples, samples/s and the smoothed loss."""

    def __init__(self, epoch: int, total: int, every_seconds: float, enabled: bool):
        self.epoch, self.total, self.every_seconds, self.enabled = epoch, total, every_seconds, enabled
        self.samples, self.running = 0, None
        self.started = self.reported = time.perf_counter()
        self.bar = None
        if enabled and sys.stderr.isatty():
            self.bar = tqdm(total=total, desc=f"epoch {epoch}", unit="sample", unit_scale=True, leave=False)

    def step(self, samples: int, loss: float) -> None:
        self.samples += samples
        self.running = loss if self.running is None else (1 - LOSS_SMOOTHING) * self.running + LOSS_SMOOTHING * loss
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{self.running:.4f}", refresh=False)
            self.bar.update(samples)
        elif self.enabled and time.perf_counter() - self.reported >= self.every_seconds:
            self.reported = time.perf_counter()
            rate = self.samples / (self.reported - self.started)
            print(f"epoch {self.epoch}: {self.samples:,}/{self.total:,} samples, {rate:,.0f} samples/s, "
                  f"loss {self.running:.4f}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _snapshot(model: MultiTaskModel) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
