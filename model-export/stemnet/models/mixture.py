"""Experts mixed by per-task softmax gates: the building block of OMoE, MMoE, PLE, ME-MMoE and ME-PLE, which
differ only in what each expert and gate reads. STEM-Net, whose gates also see the other tasks' experts through a
stop-gradient, is written out on its own in stem_net.py.

Every expert and gate reads a "view": the flattened [B, F*D] embeddings of one table (or, for task views, the task
table's rows with the shared rows of the fields it does not cover; see TaskViews). Each expert has an owner:
SHARED_OWNER or a task. Task t's gate mixes the experts owned by SHARED_OWNER or by t.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from stemnet.config import ModelConfig
from stemnet.raw_data.schema import Schema
from stemnet.models.base import MultiTaskModel, mlp
from stemnet.models.tables import SHARED_TABLE, TableSpec, task_table
from stemnet.models.task_views import TaskViews, task_specific_fields

SHARED_OWNER = "shared"


@dataclass(frozen=True)
class ExpertLayout:
    expert_views: list[str]  # the view each expert reads
    expert_owners: list[str]  # SHARED_OWNER or a task, per expert
    gate_views: dict[str, list[str]]  # per task: the views summed into its gate's input
    one_gate: bool = False  # OMoE: one gate, shared by all tasks


class ExpertMixture(MultiTaskModel):
    def __init__(self, config: ModelConfig, schema: Schema, specs: list[TableSpec], layout: ExpertLayout):
        super().__init__(specs, schema.field_names, list(schema.tasks), config.embedding_dim)
        self.layout = layout
        self.expert_owners = list(layout.expert_owners)
        # Indices of the experts each task's gate mixes, in gate-output order.
        self.visible_experts = {
            t: [i for i, owner in enumerate(layout.expert_owners) if owner in (SHARED_OWNER, t)] for t in self.tasks
        }
        for t in self.tasks:
            self.register_buffer(f"visible_{t}", torch.tensor(self.visible_experts[t]), persistent=False)
        self.experts = nn.ModuleList(mlp(self.input_dim, config.expert_hidden) for _ in layout.expert_views)
        gated_tasks = self.tasks[:1] if layout.one_gate else self.tasks
        self.gates = nn.ModuleList(
            mlp(self.input_dim, config.gate_hidden, len(self.visible_experts[t])) for t in gated_tasks
        )
        self.towers = nn.ModuleList(mlp(config.expert_hidden[-1], config.tower_hidden, 1) for _ in self.tasks)

    def view(self, table_inputs: dict[str, torch.Tensor], name: str) -> torch.Tensor:
        return table_inputs[name].flatten(1)

    def dense_logits(self, table_inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.logits_and_gates(table_inputs)[0]

    def logits_and_gates(self, table_inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """[B, T] logits and, per task, its gate weights [B, len(visible_experts[task])]."""
        views = {name: self.view(table_inputs, name) for name in self._view_names()}
        outputs = torch.stack([expert(views[name]) for expert, name in zip(self.experts, self.layout.expert_views)])
        every_expert = len(self.expert_owners)
        logits, gates = [], {}
        for t, task in enumerate(self.tasks):
            gate_index = 0 if self.layout.one_gate else t
            gate_input = sum(views[name] for name in self.layout.gate_views[task])
            gate = torch.softmax(self.gates[gate_index](gate_input), dim=-1)
            seen = outputs
            if len(self.visible_experts[task]) < every_expert:
                seen = outputs.index_select(0, getattr(self, f"visible_{task}"))
            mixed = (gate.t().unsqueeze(-1) * seen).sum(dim=0)
            logits.append(self.towers[t](mixed))
            gates[task] = gate
        return torch.cat(logits, dim=1), gates

    def _view_names(self) -> list[str]:
        names = list(self.layout.expert_views) + [n for views in self.layout.gate_views.values() for n in views]
        return list(dict.fromkeys(names))


def total_experts(config: ModelConfig, tasks: list[str]) -> int:
    """Expert count of the single-group models (MMoE, OMoE, ME-MMoE): the same number as
    PLE and STEM-Net have, K2 + T * K1, so comparisons are at equal expert budget."""
    return config.num_shared_experts + config.num_task_experts * len(tasks)


def shared_and_task_experts(config: ModelConfig, tasks: list[str], task_view) -> tuple[list[str], list[str]]:
    """(views, owners) of K2 shared experts on the shared table, then K1 experts per task on `task_view(t)`."""
    views = [SHARED_TABLE] * config.num_shared_experts
    owners = [SHARED_OWNER] * config.num_shared_experts
    for task in tasks:
        views += [task_view(task)] * config.num_task_experts
        owners += [task] * config.num_task_experts
    return views, owners


class TaskEmbeddingExperts(ExpertMixture):
    """ME-PLE: a shared table plus one table per task over the task-specific fields; shared experts read the shared
    table, task t's experts and gate read task t's view (TaskViews)."""

    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        fields = schema.field_names
        specific = task_specific_fields(config, schema)
        specs = [TableSpec.stacked(SHARED_TABLE, fields, vocab_sizes)]
        specs += [TableSpec.stacked(task_table(t), specific, vocab_sizes) for t in schema.tasks]
        views, owners = shared_and_task_experts(config, list(schema.tasks), task_table)
        gate_views = {t: [task_table(t), SHARED_TABLE] for t in schema.tasks}
        super().__init__(config, schema, specs, ExpertLayout(views, owners, gate_views))
        self.task_views = TaskViews(fields, specific)

    def view(self, table_inputs: dict[str, torch.Tensor], name: str) -> torch.Tensor:
        if name == SHARED_TABLE:
            return table_inputs[name].flatten(1)
        return self.task_views(table_inputs, name)
