"""Experts mixed by per-task softmax gates: the building block of OMoE, MMoE, PLE, ME-MMoE,
ME-PLE and STEM-Net, which differ only in what each expert and gate reads and which experts a
task's gate may see.

Every expert and gate reads a "view": the flattened [B, F*D] embeddings of one table (or, for
task views with a field subset, a mix of the task and shared tables; see TaskEmbeddingExperts).
Each expert has an owner: SHARED_OWNER or a task name. Task t's gate mixes the shared experts,
its own experts and, depending on `other_tasks`, the other tasks' experts: "hidden" (PLE,
ME-PLE), or "detached" (STEM-Net's All Forward, Task-specific Backward).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from stemnet.config import ConfigError, ModelConfig
from stemnet.data.schema import Schema
from stemnet.models.base import MultiTaskModel, mlp
from stemnet.models.tables import SHARED_TABLE, TableSpec, task_table

SHARED_OWNER = "shared"
OTHER_TASKS_MODES = ("hidden", "detached")


@dataclass(frozen=True)
class ExpertLayout:
    expert_views: list[str]  # the view each expert reads
    expert_owners: list[str]  # SHARED_OWNER or a task, per expert
    gate_views: dict[str, list[str]]  # per task: the views summed into its gate's input
    other_tasks: str = "hidden"  # what a task's gate does with other tasks' experts
    one_gate: bool = False  # OMoE: one gate, shared by all tasks


class ExpertMixture(MultiTaskModel):
    def __init__(self, config: ModelConfig, schema: Schema, specs: list[TableSpec], layout: ExpertLayout):
        super().__init__(specs, schema.field_names, list(schema.tasks), config.embedding_dim)
        if layout.other_tasks not in OTHER_TASKS_MODES:
            raise ValueError(f"other_tasks must be one of {OTHER_TASKS_MODES}")
        self.layout = layout
        # Indices of the experts each task's gate mixes, in gate-output order.
        self.visible_experts = {
            t: [i for i, owner in enumerate(layout.expert_owners) if owner in (SHARED_OWNER, t) or layout.other_tasks != "hidden"]
            for t in self.tasks
        }
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
        outputs = [expert(views[name]) for expert, name in zip(self.experts, self.layout.expert_views)]
        logits, gates = [], {}
        for t, task in enumerate(self.tasks):
            gate_index = 0 if self.layout.one_gate else t
            gate_input = sum(views[name] for name in self.layout.gate_views[task])
            gate = torch.softmax(self.gates[gate_index](gate_input), dim=-1)
            mix = [self._as_seen_by(task, i, outputs[i]) for i in self.visible_experts[task]]
            mixed = (gate.unsqueeze(-1) * torch.stack(mix, dim=1)).sum(dim=1)
            logits.append(self.towers[t](mixed))
            gates[task] = gate
        return torch.cat(logits, dim=1), gates

    def _as_seen_by(self, task: str, expert: int, output: torch.Tensor) -> torch.Tensor:
        owner = self.layout.expert_owners[expert]
        foreign = owner not in (SHARED_OWNER, task)
        return output.detach() if foreign and self.layout.other_tasks == "detached" else output

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
    """ME-PLE and STEM-Net: a shared table plus one table per task over `task_specific_fields`;
    shared experts read the shared table, task t's experts and gate read task t's view (its own
    rows, and the shared row for fields without a task-specific table)."""

    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int], other_tasks: str):
        fields = schema.field_names
        specific = self.task_specific_fields(config, schema)
        specs = [TableSpec.stacked(SHARED_TABLE, fields, vocab_sizes)]
        specs += [TableSpec.stacked(task_table(t), specific, vocab_sizes) for t in schema.tasks]
        views, owners = shared_and_task_experts(config, list(schema.tasks), task_table)
        gate_views = {t: [task_table(t), SHARED_TABLE] for t in schema.tasks}
        super().__init__(config, schema, specs, ExpertLayout(views, owners, gate_views, other_tasks))
        # Task t's view is [shared rows ++ task rows] gathered back into schema field order.
        gather = [len(fields) + specific.index(f) if f in specific else i for i, f in enumerate(fields)]
        self.register_buffer("task_view_order", torch.tensor(gather), persistent=False)

    def task_specific_fields(self, config: ModelConfig, schema: Schema) -> list[str]:
        """The configured subset in schema order (all fields when not configured)."""
        fields = schema.field_names
        if config.task_specific_fields is None:
            return list(fields)
        unknown = sorted(set(config.task_specific_fields) - set(fields))
        if unknown:
            raise ConfigError(f"model.task_specific_fields: unknown field(s) {unknown}; the data has {fields}")
        if not config.task_specific_fields:
            raise ConfigError("model.task_specific_fields: an empty list leaves no task-specific table")
        return [f for f in fields if f in config.task_specific_fields]

    def view(self, table_inputs: dict[str, torch.Tensor], name: str) -> torch.Tensor:
        if name == SHARED_TABLE:
            return table_inputs[name].flatten(1)
        both = torch.cat([table_inputs[SHARED_TABLE], table_inputs[name]], dim=1)
        return both.index_select(1, self.task_view_order).flatten(1)
