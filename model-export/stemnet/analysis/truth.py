"""Synthetic data only: how much of each task's Bayes-optimal AUC comes from which part of the
true logit, and how models do on the users whose follow and pay preferences conflict.

The generator's true logit per task is a bias plus per-user and per-ad offsets (the user's
per-task propensity among them) and attribute effects, plus two user x ad latent dot products:
one shared by the tasks and one per task (the one that conflicting users flip between follow
and pay). Ranking a split by the logit with parts left out gives the AUC an oracle for the rest
would reach, so the Bayes gap of a model can be put down to the parts it does not recover.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from stemnet.config import DataConfig
from stemnet.raw_data.schema import DataError, Schema
from stemnet.raw_data.synthetic import SCHEMA, SHARED_WEIGHT, TASK_WEIGHT, draw_with_splits
from stemnet.evaluate import roc_auc

GROUPS = ("all users", "agreeing users", "conflicting users")
ORACLES = (
    "offsets and attributes only",
    "+ shared user x ad dot product",
    "+ task user x ad dot product = true logit (Bayes-optimal)",
)


def group_masks(conflict: np.ndarray) -> dict[str, np.ndarray]:
    return {GROUPS[0]: np.ones_like(conflict, dtype=bool), GROUPS[1]: ~conflict, GROUPS[2]: conflict}


def oracle_aucs(config: DataConfig, split: str = "test") -> tuple[dict, np.ndarray, np.ndarray]:
    """task -> oracle -> group -> AUC on `split`; and that split's labels [N, T] and conflict flags [N]."""
    draw, rows = draw_with_splits(config)
    index = rows[split]
    conflict = draw.conflict_row[index]
    masks = group_masks(conflict)
    labels = np.column_stack([draw.frame[Schema.label_column(t)].to_numpy()[index] for t in SCHEMA.tasks])
    aucs = {}
    for t, task in enumerate(SCHEMA.tasks):
        logit = draw.logits[task][index]
        task_interaction = TASK_WEIGHT[task] * (draw.task_scores[task] - draw.propensities[task])[index]
        shared_interaction = SHARED_WEIGHT[task] * draw.shared_interaction[index]
        scores = {
            ORACLES[0]: logit - task_interaction - shared_interaction,
            ORACLES[1]: logit - task_interaction,
            ORACLES[2]: logit,
        }
        aucs[task] = {
            name: {group: roc_auc(labels[mask, t], score[mask]) for group, mask in masks.items()}
            for name, score in scores.items()
        }
    return aucs, labels, conflict


def model_group_aucs(predictions_path: Path, labels: np.ndarray, conflict: np.ndarray) -> dict:
    """architecture -> task -> group -> (mean, std) AUC over the seeds in `predictions.npz`."""
    with np.load(predictions_path) as stored:
        tasks = [str(t) for t in stored["tasks"]]
        if tasks != list(SCHEMA.tasks) or not np.array_equal(stored["labels"], labels):
            raise DataError(
                f"{predictions_path}: its test labels are not the ones this config generates; "
                "pass the config the benchmark's data was generated with"
            )
        runs = {name: stored[name] for name in stored.files if "/" in name}
    masks = group_masks(conflict)
    per_arch: dict[str, list[dict]] = {}
    for name, probs in runs.items():
        arch = name.split("/")[0]
        per_arch.setdefault(arch, []).append(
            {task: {g: roc_auc(labels[m, t], probs[m, t]) for g, m in masks.items()} for t, task in enumerate(tasks)}
        )
    return {
        arch: {
            task: {g: (float(np.mean([r[task][g] for r in seeds])), float(np.std([r[task][g] for r in seeds]))) for g in GROUPS}
            for task in tasks
        }
        for arch, seeds in per_arch.items()
    }


def render_truth(config: DataConfig, split: str, predictions: Optional[Path]) -> str:
    aucs, labels, conflict = oracle_aucs(config, split)
    lines = [
        f"### {split} AUC of the true logit's parts ({int(conflict.sum())} of {len(conflict)} rows from conflicting users)",
        "",
        "| Task | Oracle | " + " | ".join(GROUPS) + " |",
        "|---|---|" + "---|" * len(GROUPS),
    ]
    for task, by_oracle in aucs.items():
        for oracle, by_group in by_oracle.items():
            lines.append(f"| {task} | {oracle} | " + " | ".join(f"{by_group[g]:.4f}" for g in GROUPS) + " |")
    if predictions is not None:
        models = model_group_aucs(predictions, labels, conflict)
        bayes = {task: by_oracle[ORACLES[2]] for task, by_oracle in aucs.items()}
        header = [f"{task} {group}" for task in SCHEMA.tasks for group in GROUPS[1:]]
        lines += [
            "",
            f"### Model AUC on agreeing vs conflicting users ({split}; mean ± std over seeds)",
            "",
            "| Model | " + " | ".join(header) + " |",
            "|---|" + "---|" * len(header),
        ]
        for arch, by_task in models.items():
            cells = [f"{by_task[t][g][0]:.4f} ± {by_task[t][g][1]:.4f}" for t in SCHEMA.tasks for g in GROUPS[1:]]
            lines.append(f"| {arch} | " + " | ".join(cells) + " |")
        lines.append("| Bayes-optimal | " + " | ".join(f"{bayes[t][g]:.4f}" for t in SCHEMA.tasks for g in GROUPS[1:]) + " |")
    return "\n".join(lines) + "\n"
