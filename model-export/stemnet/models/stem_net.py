"""STEM-Net (Su et al., "STEM: Unleashing the Power of Embeddings for Multi-task Recommendation", AAAI 2024),
written as the paper's section 4 reads; each step names its equation.

  E_S, E_t   every field has a shared embedding and one per task                                   (eqs. 1-2)
  experts    K2 shared experts read E_S, K1 experts of task t read E_t                             (eqs. 3-4)
  gates      task t: g_t = softmax(MLP_t(E_t + E_S)) over ALL K2 + T*K1 experts,
             the other tasks' experts entering through a stop-gradient sg()                        (eqs. 5-6)
  towers     y_t = sigmoid(tower_t(sum_k g_t,k h_k))                                               (eq. 7)

"All Forward, Task-specific Backward": task u's experts reach task t's score (forward), but task t's loss never
trains them, so each task's embeddings and experts are trained by that task alone.

The paper's Table 5 variants give task-specific embeddings to one side's fields only: `stem_net_user_side` and
`stem_net_item_side` (they override model.task_specific_fields). Baselines are in mixture.py and its users.
"""
from __future__ import annotations

import torch
from torch import nn

from stemnet.config import ModelConfig
from stemnet.raw_data.schema import Schema
from stemnet.models.base import MultiTaskModel, mlp
from stemnet.models.experts import experts, run_experts
from stemnet.models.mixture import SHARED_OWNER
from stemnet.models.registry import register
from stemnet.models.tables import SHARED_TABLE, TableSpec, task_table
from stemnet.models.task_views import TaskViews, task_specific_fields


@register("stem_net")
class StemNet(MultiTaskModel):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        fields, tasks = schema.field_names, list(schema.tasks)
        specific = self.specific_fields(config, schema)
        # Eqs. 1-2: one shared table over every field, one table per task over the task-specific fields.
        specs = [TableSpec.stacked(SHARED_TABLE, fields, vocab_sizes)]
        specs += [TableSpec.stacked(task_table(t), specific, vocab_sizes) for t in tasks]
        super().__init__(specs, fields, tasks, config.embedding_dim)
        self.task_views = TaskViews(fields, specific)
        # Eqs. 3-4: K2 shared experts on E_S, K1 experts per task on E_t.
        self.shared_experts = experts(self.input_dim, config.expert_hidden, config.num_shared_experts)
        self.task_experts = nn.ModuleDict(
            {t: experts(self.input_dim, config.expert_hidden, config.num_task_experts) for t in tasks})
        # Eq. 5: one gate per task over all experts, shared ones first, then each task's in task order.
        every_expert = config.num_shared_experts + config.num_task_experts * len(tasks)
        self.gates = nn.ModuleDict({t: mlp(self.input_dim, config.gate_hidden, every_expert) for t in tasks})
        # Eq. 7.
        self.towers = nn.ModuleDict({t: mlp(config.expert_hidden[-1], config.tower_hidden, 1) for t in tasks})
        # What the gate analysis reads: each gate output's owner (every task sees every expert).
        self.expert_owners = [SHARED_OWNER] * config.num_shared_experts + [
            t for t in tasks for _ in range(config.num_task_experts)]
        self.visible_experts = {t: list(range(every_expert)) for t in tasks}

    def specific_fields(self, config: ModelConfig, schema: Schema) -> list[str]:
        return task_specific_fields(config, schema)

    def dense_logits(self, table_inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.logits_and_gates(table_inputs)[0]

    def logits_and_gates(self, table_inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """[B, T] logits and each task's gate weights [B, K2 + T*K1]."""
        e_shared = table_inputs[SHARED_TABLE].flatten(1)                                    # eq. 1: E_S
        e_task = {t: self.task_views(table_inputs, task_table(t)) for t in self.tasks}      # eq. 2: E_t
        h_shared = run_experts(self.shared_experts, e_shared)                               # eq. 3: [K2, B, H]
        h_task = {t: run_experts(self.task_experts[t], e_task[t]) for t in self.tasks}      # eq. 4: [K1, B, H]
        logits, gates = [], {}
        for t in self.tasks:
            g = torch.softmax(self.gates[t](e_task[t] + e_shared), dim=-1)                  # eq. 5
            # Eq. 6: task t's own and the shared experts as they are, the other tasks' through sg().
            h = torch.cat([h_shared] + [h_task[u] if u == t else h_task[u].detach() for u in self.tasks])
            mixed = (g.t().unsqueeze(-1) * h).sum(dim=0)
            logits.append(self.towers[t](mixed))                                            # eq. 7 (sigmoid: forward)
            gates[t] = g
        return torch.cat(logits, dim=1), gates


class _OneSideStemNet(StemNet):
    side: str

    def specific_fields(self, config: ModelConfig, schema: Schema) -> list[str]:
        return [f.name for f in schema.fields if f.side == self.side]


@register("stem_net_user_side")
class StemNetUserSide(_OneSideStemNet):
    side = "user"


@register("stem_net_item_side")
class StemNetItemSide(_OneSideStemNet):
    side = "item"
