"""Per-task AUC and logloss, and batched prediction."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from stemnet.encoded_data.dataset import EncodedSplit, make_loader
from stemnet.models.base import MultiTaskModel

LOGLOSS_EPS = 1e-7


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted as half; NaN when only one class is present."""
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return math.nan
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    return float((ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def grouped_auc(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> float:
    """gAUC: the AUC within each group (user) that has both classes, averaged with weights equal
    to the group's number of samples; NaN when no group has both classes."""
    frame = pd.DataFrame({"label": labels, "group": groups})
    frame["rank"] = pd.Series(scores).groupby(groups).rank(method="average").to_numpy()
    frame["positive_rank"] = frame["rank"] * frame["label"]
    per_group = frame.groupby("group").agg(
        positives=("label", "sum"), size=("label", "size"), positive_ranks=("positive_rank", "sum")
    )
    negatives = per_group["size"] - per_group["positives"]
    usable = per_group[(per_group["positives"] > 0) & (negatives > 0)]
    if usable.empty:
        return math.nan
    pos, neg = usable["positives"], usable["size"] - usable["positives"]
    auc = (usable["positive_ranks"] - pos * (pos + 1) / 2) / (pos * neg)
    return float((auc * usable["size"]).sum() / usable["size"].sum())


def logloss(labels: np.ndarray, probs: np.ndarray) -> float:
    p = np.clip(probs.astype(np.float64), LOGLOSS_EPS, 1 - LOGLOSS_EPS)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


@torch.no_grad()
def predict(model: MultiTaskModel, split: EncodedSplit, batch_size: int, device: torch.device) -> np.ndarray:
    model.eval()
    outputs = [model(ids.to(device)).cpu() for ids, _ in make_loader(split, batch_size, shuffle=False)]
    return torch.cat(outputs).numpy()


def task_metrics(
    tasks: list[str], split: EncodedSplit, probs: np.ndarray, groups: np.ndarray | None = None
) -> dict[str, dict[str, float]]:
    """AUC and logloss per task, gAUC when `groups` (e.g. user ids) are given, plus the
    Bayes-optimal AUC when the split has true probabilities."""
    metrics = {}
    for t, task in enumerate(tasks):
        labels = split.labels[:, t]
        metrics[task] = {"auc": roc_auc(labels, probs[:, t]), "logloss": logloss(labels, probs[:, t])}
        if groups is not None:
            metrics[task]["gauc"] = grouped_auc(labels, probs[:, t], groups)
        if split.true_probs is not None:
            metrics[task]["bayes_auc"] = roc_auc(labels, split.true_probs[:, t])
    return metrics


def json_safe(value):
    """Metrics as JSON can carry them, nested dicts included: NaN (e.g. the AUC of a split without positives) and
    infinities become null."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def average_auc(metrics: dict[str, dict[str, float]]) -> float:
    return float(np.nanmean([m["auc"] for m in metrics.values()]))


def format_metrics(metrics: dict[str, dict[str, float]]) -> str:
    return "  ".join(
        f"{task}: " + " ".join(f"{name}={value:.4f}" for name, value in values.items())
        for task, values in metrics.items()
    )
