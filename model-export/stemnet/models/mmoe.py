"""One group of K experts shared by every task, K = K2 + T * K1 (see total_experts).

OMoE (one gate for all tasks), MMoE (Ma et al., KDD 2018: one gate per task) on one shared
embedding table, and ME-MMoE (the STEM paper's multi-embedding MMoE): each expert reads its own
embedding table `expert:<i>`, and the gates read the sum of all expert tables.
"""
from __future__ import annotations

from stemnet.config import ModelConfig
from stemnet.raw_data.schema import Schema
from stemnet.models.mixture import SHARED_OWNER, ExpertLayout, ExpertMixture, total_experts
from stemnet.models.registry import register
from stemnet.models.tables import SHARED_TABLE, TableSpec


def expert_table(index: int) -> str:
    return f"expert:{index}"


def _shared_table_layout(config: ModelConfig, schema: Schema, one_gate: bool) -> ExpertLayout:
    count = total_experts(config, list(schema.tasks))
    gate_views = {t: [SHARED_TABLE] for t in schema.tasks}
    return ExpertLayout([SHARED_TABLE] * count, [SHARED_OWNER] * count, gate_views, one_gate=one_gate)


@register("omoe")
class OMoE(ExpertMixture):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        specs = [TableSpec.stacked(SHARED_TABLE, schema.field_names, vocab_sizes)]
        super().__init__(config, schema, specs, _shared_table_layout(config, schema, one_gate=True))


@register("mmoe")
class MMoE(ExpertMixture):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        specs = [TableSpec.stacked(SHARED_TABLE, schema.field_names, vocab_sizes)]
        super().__init__(config, schema, specs, _shared_table_layout(config, schema, one_gate=False))


@register("me_mmoe")
class MultiEmbeddingMMoE(ExpertMixture):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        tables = [expert_table(i) for i in range(total_experts(config, list(schema.tasks)))]
        specs = [TableSpec.stacked(name, schema.field_names, vocab_sizes) for name in tables]
        layout = ExpertLayout(tables, [SHARED_OWNER] * len(tables), {t: tables for t in schema.tasks})
        super().__init__(config, schema, specs, layout)
