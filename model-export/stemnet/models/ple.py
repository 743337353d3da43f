"""PLE (Tang et al., RecSys 2020) with one extraction layer (CGC, the STEM paper's setting) and
ME-PLE (the STEM paper's multi-embedding PLE).

PLE: K2 shared and K1-per-task experts on one shared table; task t's gate reads the shared
embeddings and mixes the shared experts and its own. ME-PLE: the same gating, but task t's
experts and gate read task t's own embedding table (TaskEmbeddingExperts); unlike STEM-Net a
task never sees the other tasks' experts.
"""
from __future__ import annotations

from stemnet.config import ModelConfig
from stemnet.raw_data.schema import Schema
from stemnet.models.mixture import ExpertLayout, ExpertMixture, TaskEmbeddingExperts, shared_and_task_experts
from stemnet.models.registry import register
from stemnet.models.tables import SHARED_TABLE, TableSpec


@register("ple")
class PLE(ExpertMixture):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        specs = [TableSpec.stacked(SHARED_TABLE, schema.field_names, vocab_sizes)]
        views, owners = shared_and_task_experts(config, list(schema.tasks), lambda task: SHARED_TABLE)
        layout = ExpertLayout(views, owners, {t: [SHARED_TABLE] for t in schema.tasks})
        super().__init__(config, schema, specs, layout)


@register("me_ple")
class MultiEmbeddingPLE(TaskEmbeddingExperts):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        super().__init__(config, schema, vocab_sizes)
