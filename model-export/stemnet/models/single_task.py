"""Single-Task baseline: one independent network per task, each with its own embedding table.

"One model per task" exported as one bundle: the graph holds T networks that share nothing
(table `task:<t>`, an MLP of `expert_hidden`, a tower), so task t's score is exactly what a
separately trained single-task model would give, and the generic service serves it unchanged.
The T networks train in one loop, but since the loss is a sum of per-task terms and nothing is
shared, each network's gradients are those of its own task alone.
"""
from __future__ import annotations

import torch
from torch import nn

from stemnet.config import ModelConfig
from stemnet.raw_data.schema import Schema
from stemnet.models.base import MultiTaskModel, mlp
from stemnet.models.registry import register
from stemnet.models.tables import TableSpec, task_table


def task_network(input_dim: int, config: ModelConfig) -> nn.Sequential:
    """Embeddings -> MLP(expert_hidden) -> tower -> one logit: one task's whole network."""
    return nn.Sequential(mlp(input_dim, config.expert_hidden), mlp(config.expert_hidden[-1], config.tower_hidden, 1))


@register("single_task")
class SingleTask(MultiTaskModel):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        specs = [TableSpec.stacked(task_table(t), schema.field_names, vocab_sizes) for t in schema.tasks]
        super().__init__(specs, schema.field_names, list(schema.tasks), config.embedding_dim)
        self.networks = nn.ModuleList(task_network(self.input_dim, config) for _ in self.tasks)

    def dense_logits(self, table_inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat(
            [net(table_inputs[task_table(t)].flatten(1)) for net, t in zip(self.networks, self.tasks)], dim=1
        )
