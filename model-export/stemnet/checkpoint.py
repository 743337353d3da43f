"""Per-epoch training checkpoints, so an interrupted run resumes where it stopped and ends with
the same weights as an uninterrupted one (model, optimizer, early-stopping state, RNG states)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from stemnet.config import ConfigError
from stemnet.models.base import MultiTaskModel

CHECKPOINT_FILE = "checkpoint.pt"


@dataclass
class Progress:
    """Where training stands after `epoch` finished epochs."""

    epoch: int = 0
    best_auc: float = float("-inf")
    best_epoch: int = 0
    best_state: Optional[dict[str, torch.Tensor]] = None


def fingerprint(model: MultiTaskModel, architecture: str) -> dict:
    """What must match for a checkpoint to fit this run's model."""
    return {
        "architecture": architecture,
        "tasks": model.tasks,
        "tables": [(spec.name, spec.fields, spec.rows) for spec in model.table_specs],
    }


def save(directory: Path, model: MultiTaskModel, optimizer: torch.optim.Optimizer, progress: Progress, expected: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    payload = {
        "fingerprint": expected,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "progress": progress.__dict__,
        "rng": {
            "python": random.getstate(),
            "numpy": np.random.get_state(),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        },
    }
    # Write then rename: a crash while saving leaves the previous checkpoint intact.
    staging = directory / (CHECKPOINT_FILE + ".tmp")
    torch.save(payload, staging)
    staging.replace(directory / CHECKPOINT_FILE)


def load(directory: Path, model: MultiTaskModel, optimizer: torch.optim.Optimizer, expected: dict) -> Progress:
    path = directory / CHECKPOINT_FILE
    if not path.is_file():
        raise ConfigError(f"--resume: no checkpoint at {path}")
    payload = torch.load(path, map_location=next(model.parameters()).device, weights_only=False)
    if payload["fingerprint"] != expected:
        raise ConfigError(f"{path}: the checkpoint is for {payload['fingerprint']}, not for this run's {expected}")
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    rng = payload["rng"]
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return Progress(**payload["progress"])
