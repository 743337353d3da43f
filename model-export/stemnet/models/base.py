"""What every multi-task model offers the trainer and the exporter, and the small blocks they share."""
from __future__ import annotations

import math

import torch
from torch import nn

from stemnet.models.tables import EmbeddingTables, TableSpec


def mlp(in_dim: int, hidden: list[int], out_dim: int | None = None) -> nn.Sequential:
    """Linear+ReLU per hidden size, then a plain Linear to `out_dim` if given."""
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(in_dim, size), nn.ReLU()]
        in_dim = size
    if out_dim is not None:
        layers.append(nn.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


def logit_of_log_prob(log_p: torch.Tensor) -> torch.Tensor:
    """log(p / (1 - p)) from log p, without the cancellation of 1 - exp(log p) near p = 1.

    Models whose outputs are products of probabilities (ESMM's funnel) compute log p and hand
    the trainer logits, so the loss stays `binary_cross_entropy_with_logits` for every model."""
    # log(1 - e^x): expm1 is exact for x near 0, log1p for very negative x (Maechler 2012).
    log_one_minus_p = torch.where(
        log_p > -math.log(2.0), torch.log(-torch.expm1(log_p)), torch.log1p(-torch.exp(log_p))
    )
    return log_p - log_one_minus_p


class MultiTaskModel(nn.Module):
    """Split into an embedding lookup and a dense part, because only the dense part is exported
    to ONNX: the service looks the rows up itself from the bundle's table files."""

    def __init__(self, specs: list[TableSpec], field_order: list[str], tasks: list[str], embedding_dim: int):
        super().__init__()
        self.tasks = list(tasks)
        self.field_order = list(field_order)
        self.embedding_dim = embedding_dim
        self.embeddings = EmbeddingTables(specs, field_order, embedding_dim)

    @property
    def table_specs(self) -> list[TableSpec]:
        return self.embeddings.specs

    @property
    def input_dim(self) -> int:
        """Width of one flattened all-field embedding input, F * D."""
        return len(self.field_order) * self.embedding_dim

    def dense_logits(self, table_inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """[B, T] logits from table name -> [B, F_table, D] embedding rows."""
        raise NotImplementedError

    def auxiliary_loss(self, logits: torch.Tensor) -> torch.Tensor:
        """A model-specific training penalty on the batch's logits (AITM's calibrator); none by default."""
        return logits.new_zeros(())

    def forward_dense(self, table_inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.sigmoid(self.dense_logits(table_inputs))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """[B, T] probabilities for per-field row indices `ids` [B, F]."""
        return self.forward_dense(self.embeddings(ids))
