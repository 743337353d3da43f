"""Embedding tables laid out exactly as the bundle stores them: field blocks, OOV row first."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

SHARED_TABLE = "shared"
TASK_TABLE_PREFIX = "task:"


def task_table(task: str) -> str:
    return f"{TASK_TABLE_PREFIX}{task}"


def is_task_table(name: str) -> bool:
    return name.startswith(TASK_TABLE_PREFIX)


@dataclass(frozen=True)
class TableSpec:
    name: str
    fields: tuple[str, ...]
    row_offsets: tuple[int, ...]
    rows: int

    @classmethod
    def stacked(cls, name: str, fields: list[str], vocab_sizes: dict[str, int]) -> "TableSpec":
        """One block of `vocab_sizes[field]` rows per field, in the given order."""
        offsets, rows = [], 0
        for field in fields:
            offsets.append(rows)
            rows += vocab_sizes[field]
        return cls(name=name, fields=tuple(fields), row_offsets=tuple(offsets), rows=rows)

    @property
    def file_stem(self) -> str:
        """A name safe for files, module keys and ONNX inputs ('task:pay' -> 'task_pay')."""
        return self.name.replace(":", "_")


class EmbeddingTables(nn.Module):
    """One nn.Embedding per table; maps per-field row indices to per-table [B, F_table, D] inputs."""

    def __init__(self, specs: list[TableSpec], field_order: list[str], dim: int, init_std: float = 1e-4):
        super().__init__()
        self.specs = specs
        self.tables = nn.ModuleDict({s.file_stem: nn.Embedding(s.rows, dim) for s in specs})
        for spec in specs:
            nn.init.normal_(self.tables[spec.file_stem].weight, std=init_std)
            columns = [field_order.index(f) for f in spec.fields]
            self.register_buffer(f"columns_{spec.file_stem}", torch.tensor(columns), persistent=False)
            self.register_buffer(f"offsets_{spec.file_stem}", torch.tensor(spec.row_offsets), persistent=False)

    def rows(self, spec: TableSpec, ids: torch.Tensor) -> torch.Tensor:
        """Table rows [B, F_table] for per-field indices `ids` [B, F_all]."""
        columns = getattr(self, f"columns_{spec.file_stem}")
        offsets = getattr(self, f"offsets_{spec.file_stem}")
        return ids[:, columns] + offsets

    def forward(self, ids: torch.Tensor) -> dict[str, torch.Tensor]:
        return {s.name: self.tables[s.file_stem](self.rows(s, ids)) for s in self.specs}

    def l2_by_table(self, ids: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Table name -> sum of squares of the distinct rows `ids` reads (regularising only what the
        batch updates), or of every row when `ids` is None (the reference implementation's penalty)."""
        totals = {}
        for spec in self.specs:
            weight = self.weight(spec)
            rows = weight if ids is None else weight[torch.unique(self.rows(spec, ids))]
            totals[spec.name] = rows.pow(2).sum()
        return totals

    def weight(self, spec: TableSpec) -> torch.Tensor:
        return self.tables[spec.file_stem].weight
