"""STEM-Net (Su et al., AAAI 2024): shared plus task-specific embeddings, and an
"All Forward, Task-specific Backward" gate.

Task t reads its own embeddings E_t and the shared embeddings E_S (eqs. 1-2). K1 experts per
task read E_t, K2 shared experts read E_S (eqs. 3-4). Task t's gate, softmax(MLP_t(E_t + E_S)),
mixes all K1*T + K2 expert outputs (eqs. 5-6), but the other tasks' experts enter that mix
detached: their forward signal reaches task t, task t's loss never trains them, so each
task-specific embedding is trained by its own task only. A tower + sigmoid per task (eq. 7).

The paper's Table 5 variants give task-specific embeddings to one side's fields only:
`stem_net_user_side` and `stem_net_item_side` (they override model.task_specific_fields).
"""
from __future__ import annotations

from stemnet.config import ModelConfig
from stemnet.data.schema import Schema
from stemnet.models.mixture import TaskEmbeddingExperts
from stemnet.models.registry import register


@register("stem_net")
class StemNet(TaskEmbeddingExperts):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        super().__init__(config, schema, vocab_sizes, other_tasks="detached")


class _OneSideStemNet(StemNet):
    side: str

    def task_specific_fields(self, config: ModelConfig, schema: Schema) -> list[str]:
        return [f.name for f in schema.fields if f.side == self.side]


@register("stem_net_user_side")
class StemNetUserSide(_OneSideStemNet):
    side = "user"


@register("stem_net_item_side")
class StemNetItemSide(_OneSideStemNet):
    side = "item"
