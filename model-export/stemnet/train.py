"""Training loop: vocabularies from the train split, Adam, per-epoch validation, early stopping."""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from stemnet import checkpoint
from stemnet.config import Config, ConfigError
from stemnet.data.dataset import EncodedSplit, build_vocabularies, encode_split, make_loader, oov_dropout
from stemnet.data.schema import Schema
from stemnet.data.splits import read_split
from stemnet.data.vocab import Vocabulary
from stemnet.evaluate import average_auc, format_metrics, predict, task_metrics
from stemnet.models.base import MultiTaskModel
from stemnet.models.registry import build_model
from stemnet.models.tables import is_task_table

LOSS_SMOOTHING = 0.05


@dataclass
class TrainingResult:
    model: MultiTaskModel
    schema: Schema
    vocabs: dict[str, Vocabulary]
    metrics: dict[str, dict]
    epochs_trained: int
    test_frame: pd.DataFrame


def train(config: Config, data_dir: Path, checkpoint_dir: Optional[Path] = None, resume: bool = False) -> TrainingResult:
    """Trains with early stopping; with `checkpoint_dir`, saves a checkpoint after every epoch
    and, with `resume`, continues from the one there."""
    settings = config.train
    if settings.embedding_l2_scope not in L2_SCOPES:
        raise ConfigError(f"train.embedding_l2_scope: expected one of {list(L2_SCOPES)}, got {settings.embedding_l2_scope!r}")
    seed_everything(settings.seed)
    device = resolve_device(settings.device)
    schema = Schema.load(data_dir)
    frames = {split: read_split(data_dir, split, schema) for split in ("train", "valid", "test")}
    vocabs = build_vocabularies(frames["train"], schema, settings.min_count)
    splits = {name: encode_split(frame, schema, vocabs) for name, frame in frames.items()}
    model = build_model(config.model, schema, {name: v.size for name, v in vocabs.items()}).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    run_fingerprint = checkpoint.fingerprint(model, config.model.architecture)
    if resume and checkpoint_dir is None:
        raise ConfigError("--resume needs --checkpoint-dir")
    progress = checkpoint.load(checkpoint_dir, model, optimizer, run_fingerprint) if resume else checkpoint.Progress()

    while progress.epoch < settings.epochs and not _stopped_early(progress, settings.patience):
        epoch = progress.epoch + 1
        _train_epoch(model, optimizer, splits["train"], config, epoch, device)
        validation = task_metrics(model.tasks, splits["valid"], predict(model, splits["valid"], settings.eval_batch_size, device))
        score = average_auc(validation)
        print(f"epoch {epoch} validation: mean auc={score:.4f}  {format_metrics(validation)}", flush=True)
        progress.epoch = epoch
        if score > progress.best_auc:
            progress.best_auc, progress.best_state, progress.best_epoch = score, _snapshot(model), epoch
        if checkpoint_dir is not None:
            checkpoint.save(checkpoint_dir, model, optimizer, progress, run_fingerprint)
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
    return TrainingResult(
        model=model,
        schema=schema,
        vocabs=vocabs,
        metrics={"validation": metrics["valid"], "test": metrics["test"], "bestEpoch": best_epoch},
        epochs_trained=epoch,
        test_frame=frames["test"],
    )


def _stopped_early(progress: checkpoint.Progress, patience: int) -> bool:
    return progress.epoch - progress.best_epoch >= patience


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device: 'cuda' requested but no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise ConfigError(f"train.device: expected 'cpu' or 'cuda', got {name!r}")
    return torch.device(name)


L2_SCOPES = ("touched_rows", "whole_table")


def multitask_loss(
    model: MultiTaskModel,
    ids: torch.Tensor,
    labels: torch.Tensor,
    embedding_l2: float,
    l2_scope: str = "touched_rows",
    task_table_l2: Optional[float] = None,
) -> torch.Tensor:
    """Sum over tasks of the mean BCE, the model's own penalty, and embedding L2 (see L2_SCOPES):
    `task_table_l2` on the task-specific tables when given, `embedding_l2` on the others."""
    logits = model.dense_logits(model.embeddings(ids))
    bce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none").mean(dim=0).sum()
    per_table = model.embeddings.l2_by_table(ids if l2_scope == "touched_rows" else None)
    l2 = sum(table_l2_weight(name, embedding_l2, task_table_l2) * value for name, value in per_table.items())
    return bce + model.auxiliary_loss(logits) + l2


def table_l2_weight(table: str, embedding_l2: float, task_table_l2: Optional[float]) -> float:
    return task_table_l2 if task_table_l2 is not None and is_task_table(table) else embedding_l2


def _train_epoch(model, optimizer, split: EncodedSplit, config: Config, epoch: int, device: torch.device) -> None:
    model.train()
    running = None
    loader = make_loader(split, config.train.batch_size, shuffle=True, seed=config.train.seed + epoch)
    with tqdm(total=len(split), desc=f"epoch {epoch}", unit="sample", unit_scale=True, leave=False) as bar:
        for ids, labels in loader:
            ids = oov_dropout(ids, config.train.oov_dropout)
            loss = multitask_loss(
                model,
                ids.to(device),
                labels.to(device),
                config.train.embedding_l2,
                config.train.embedding_l2_scope,
                config.train.task_table_l2,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            value = loss.item()
            running = value if running is None else (1 - LOSS_SMOOTHING) * running + LOSS_SMOOTHING * value
            bar.set_postfix(loss=f"{running:.4f}", refresh=False)
            bar.update(len(ids))


def _snapshot(model: MultiTaskModel) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
