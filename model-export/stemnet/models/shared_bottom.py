"""Shared-Bottom (Caruana 1997): one embedding table and one bottom MLP for all tasks, a tower per task."""
from __future__ import annotations

import torch
from torch import nn

from stemnet.config import ModelConfig
from stemnet.raw_data.schema import Schema
from stemnet.models.base import MultiTaskModel, mlp
from stemnet.models.registry import register
from stemnet.models.tables import SHARED_TABLE, TableSpec


@register("shared_bottom")
class SharedBottom(MultiTaskModel):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        specs = [TableSpec.stacked(SHARED_TABLE, schema.field_names, vocab_sizes)]
        super().__init__(specs, schema.field_names, list(schema.tasks), config.embedding_dim)
        self.bottom = mlp(self.input_dim, config.expert_hidden)
        self.towers = nn.ModuleList(mlp(config.expert_hidden[-1], config.tower_hidden, 1) for _ in self.tasks)

    def dense_logits(self, table_inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = self.bottom(table_inputs[SHARED_TABLE].flatten(1))
        return torch.cat([tower(hidden) for tower in self.towers], dim=1)
