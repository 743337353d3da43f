"""Expert MLPs: K experts of Linear+ReLU layers that read one input.

Each expert is its own `mlp`. Running K experts that share an input as one wide GEMM and then batched GEMMs was
measured slower on this CPU, in FP32 and in BF16 (model-export/docs/training-speed.md), so they run one
by one and their outputs are stacked.
"""
from __future__ import annotations

import torch
from torch import nn

from stemnet.models.base import mlp


def experts(in_dim: int, hidden: list[int], count: int) -> nn.ModuleList:
    return nn.ModuleList(mlp(in_dim, hidden) for _ in range(count))


def run_experts(group: nn.ModuleList, x: torch.Tensor) -> torch.Tensor:
    """[count, B, hidden[-1]]: each expert of `group` on the same [B, in_dim] input."""
    return torch.stack([expert(x) for expert in group])
