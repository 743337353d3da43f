"""STEM-Net (Su et al., AAAI 2024): shared plus task-specific embeddings, and an
"All Forward, Task-specific Backward" gate.

Task t reads its own embeddings E_t and the shared embeddings E_S (eqs. 1-2). K1 experts per
task read E_t, K2 shared experts read E_S (eqs. 3-4). Task t's gate, softmax(MLP_t(E_t + E_S)),
mixes all K1*T + K2 expert outputs (eqs. 5-6), but the other tasks' experts enter that mix
detached: their forward signal reaches task t, task t's loss never trains them, so each
task-specific embedding is trained by its own task only. A tower + sigmoid per task (eq. 7).
"""
from __future__ import annotations

import torch
from torch import nn

from stemnet.config import ConfigError, ModelConfig
from stemnet.data.schema import Schema
from stemnet.models.base import MultiTaskModel, mlp
from stemnet.models.registry import register
from stemnet.models.tables import SHARED_TABLE, TableSpec, task_table


@register("stem_net")
class StemNet(MultiTaskModel):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        fields = schema.field_names
        specific = _task_specific_fields(config, fields)
        specs = [TableSpec.stacked(SHARED_TABLE, fields, vocab_sizes)]
        if specific:
            specs += [TableSpec.stacked(task_table(t), specific, vocab_sizes) for t in schema.tasks]
        super().__init__(specs, fields, list(schema.tasks), config.embedding_dim)
        self.has_task_tables = bool(specific)
        # Task t's input is [shared rows ++ task rows] gathered back into schema field order,
        # so fields without a task-specific table read their shared row.
        gather = [len(fields) + specific.index(f) if f in specific else i for i, f in enumerate(fields)]
        self.register_buffer("task_input_order", torch.tensor(gather), persistent=False)

        input_dim = len(fields) * config.embedding_dim
        num_experts = config.num_task_experts * len(self.tasks) + config.num_shared_experts
        self.shared_experts = nn.ModuleList(
            mlp(input_dim, config.expert_hidden) for _ in range(config.num_shared_experts)
        )
        self.task_experts = nn.ModuleList(
            nn.ModuleList(mlp(input_dim, config.expert_hidden) for _ in range(config.num_task_experts))
            for _ in self.tasks
        )
        self.gates = nn.ModuleList(mlp(input_dim, config.gate_hidden, num_experts) for _ in self.tasks)
        self.towers = nn.ModuleList(mlp(config.expert_hidden[-1], config.tower_hidden, 1) for _ in self.tasks)

    def task_input(self, table_inputs: dict[str, torch.Tensor], task: str) -> torch.Tensor:
        """[B, F*D] flattened embeddings task `task` reads."""
        shared = table_inputs[SHARED_TABLE]
        if not self.has_task_tables:
            return shared.flatten(1)
        both = torch.cat([shared, table_inputs[task_table(task)]], dim=1)
        return both.index_select(1, self.task_input_order).flatten(1)

    def dense_logits(self, table_inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        shared_input = table_inputs[SHARED_TABLE].flatten(1)
        task_inputs = [self.task_input(table_inputs, t) for t in self.tasks]
        shared_out = [expert(shared_input) for expert in self.shared_experts]
        task_out = [[expert(x) for expert in experts] for experts, x in zip(self.task_experts, task_inputs)]
        logits = []
        for t, x in enumerate(task_inputs):
            mix = []
            for s, outputs in enumerate(task_out):
                mix += outputs if s == t else [o.detach() for o in outputs]
            stacked = torch.stack(mix + shared_out, dim=1)  # [B, experts, H]
            gate = torch.softmax(self.gates[t](x + shared_input), dim=-1)
            mixed = (gate.unsqueeze(-1) * stacked).sum(dim=1)
            logits.append(self.towers[t](mixed))
        return torch.cat(logits, dim=1)


def _task_specific_fields(config: ModelConfig, fields: list[str]) -> list[str]:
    """The configured subset in schema order (all fields when not configured)."""
    if config.task_specific_fields is None:
        return list(fields)
    unknown = sorted(set(config.task_specific_fields) - set(fields))
    if unknown:
        raise ConfigError(f"model.task_specific_fields: unknown field(s) {unknown}; the data has {fields}")
    return [f for f in fields if f in config.task_specific_fields]
