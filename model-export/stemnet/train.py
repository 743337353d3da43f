"""Training loop: vocabularies from the train split, Adam, per-epoch validation, early stopping."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from stemnet.config import Config, ConfigError
from stemnet.data.dataset import EncodedSplit, build_vocabularies, encode_split, make_loader, oov_dropout
from stemnet.data.schema import Schema
from stemnet.data.splits import read_split
from stemnet.data.vocab import Vocabulary
from stemnet.evaluate import average_auc, format_metrics, predict, task_metrics
from stemnet.models.base import MultiTaskModel
from stemnet.models.registry import build_model

LOSS_SMOOTHING = 0.05


@dataclass
class TrainingResult:
    model: MultiTaskModel
    schema: Schema
    vocabs: dict[str, Vocabulary]
    metrics: dict[str, dict]
    epochs_trained: int
    test_frame: pd.DataFrame


def train(config: Config, data_dir: Path) -> TrainingResult:
    settings = config.train
    seed_everything(settings.seed)
    device = resolve_device(settings.device)
    schema = Schema.load(data_dir)
    frames = {split: read_split(data_dir, split, schema) for split in ("train", "valid", "test")}
    vocabs = build_vocabularies(frames["train"], schema, settings.min_count)
    splits = {name: encode_split(frame, schema, vocabs) for name, frame in frames.items()}
    model = build_model(config.model, schema, {name: v.size for name, v in vocabs.items()}).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)

    best_auc, best_state, best_epoch, epoch = -math.inf, None, 0, 0
    for epoch in range(1, settings.epochs + 1):
        _train_epoch(model, optimizer, splits["train"], config, epoch, device)
        validation = task_metrics(model.tasks, splits["valid"], predict(model, splits["valid"], settings.eval_batch_size, device))
        score = average_auc(validation)
        print(f"epoch {epoch} validation: mean auc={score:.4f}  {format_metrics(validation)}", flush=True)
        if score > best_auc:
            best_auc, best_state, best_epoch = score, _snapshot(model), epoch
        elif epoch - best_epoch >= settings.patience:
            print(f"early stop: no improvement for {settings.patience} epoch(s); best epoch {best_epoch}")
            break
    if best_state is not None:
        model.load_state_dict(best_state)

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


def multitask_loss(model: MultiTaskModel, ids: torch.Tensor, labels: torch.Tensor, embedding_l2: float) -> torch.Tensor:
    """Sum over tasks of the mean BCE, the model's own penalty, and L2 on the embedding rows this batch reads."""
    logits = model.dense_logits(model.embeddings(ids))
    bce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none").mean(dim=0).sum()
    return bce + model.auxiliary_loss(logits) + embedding_l2 * model.embeddings.l2_of_touched_rows(ids)


def _train_epoch(model, optimizer, split: EncodedSplit, config: Config, epoch: int, device: torch.device) -> None:
    model.train()
    running = None
    loader = make_loader(split, config.train.batch_size, shuffle=True, seed=config.train.seed + epoch)
    with tqdm(total=len(split), desc=f"epoch {epoch}", unit="sample", unit_scale=True, leave=False) as bar:
        for ids, labels in loader:
            ids = oov_dropout(ids, config.train.oov_dropout)
            loss = multitask_loss(model, ids.to(device), labels.to(device), config.train.embedding_l2)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            value = loss.item()
            running = value if running is None else (1 - LOSS_SMOOTHING) * running + LOSS_SMOOTHING * value
            bar.set_postfix(loss=f"{running:.4f}", refresh=False)
            bar.update(len(ids))


def _snapshot(model: MultiTaskModel) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
