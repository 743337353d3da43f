"""A task's view of the embeddings (the paper's E_t): its own rows for the fields that have task-specific
embeddings, the shared rows for the others, in schema field order, flattened to [B, F*D]."""
from __future__ import annotations

import torch
from torch import nn

from stemnet.config import ConfigError, ModelConfig
from stemnet.raw_data.schema import Schema
from stemnet.models.tables import SHARED_TABLE


def task_specific_fields(config: ModelConfig, schema: Schema) -> list[str]:
    """The fields given task-specific tables: model.task_specific_fields in schema order, every field when unset."""
    fields = schema.field_names
    if config.task_specific_fields is None:
        return list(fields)
    unknown = sorted(set(config.task_specific_fields) - set(fields))
    if unknown:
        raise ConfigError(f"model.task_specific_fields: unknown field(s) {unknown}; the data has {fields}")
    if not config.task_specific_fields:
        raise ConfigError("model.task_specific_fields: an empty list leaves no task-specific table")
    return [f for f in fields if f in config.task_specific_fields]


class TaskViews(nn.Module):
    def __init__(self, fields: list[str], specific: list[str]):
        super().__init__()
        # [shared rows ++ task rows] gathered back into schema field order.
        order = [len(fields) + specific.index(f) if f in specific else i for i, f in enumerate(fields)]
        self.register_buffer("order", torch.tensor(order), persistent=False)
        self.identity = specific == list(fields)

    def forward(self, table_inputs: dict[str, torch.Tensor], task_table_name: str) -> torch.Tensor:
        if self.identity:
            return table_inputs[task_table_name].flatten(1)
        both = torch.cat([table_inputs[SHARED_TABLE], table_inputs[task_table_name]], dim=1)
        return both.index_select(1, self.order).flatten(1)
