"""Models for sequentially dependent tasks; the schema's task order is the funnel order
(follow -> activation -> pay on the synthetic data).

ESMM (Ma et al., SIGIR 2018), extended down a funnel of T tasks: each task has its own network
on the shared embeddings, giving a conditional probability q_t = p(task t | task t-1); the
model's output for task t is the product q_1 * ... * q_t, trained on the entire impression
space against task t's label (pCTCVR = pCTR * pCVR for T = 2). Outputs are therefore monotone
down the funnel.

AITM (Xi et al., KDD 2021): task t's tower output q_t and the information p_{t-1} = h1(z_{t-1})
transferred from task t-1 are combined by attention, z_t = sum_u w_u h4(u) with
w_u = softmax_u(<h2(u), h3(u)> / sqrt(k)) over u in {p_{t-1}, q_t} (eqs. 2-4); z_1 = q_1. The
behavioural expectation calibrator adds alpha * sum_t mean(max(y_t - y_{t-1}, 0)) to the loss
(eq. 6), alpha = model.aitm_calibrator_weight.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from stemnet.config import ModelConfig
from stemnet.raw_data.schema import Schema
from stemnet.models.base import MultiTaskModel, logit_of_log_prob, mlp
from stemnet.models.registry import register
from stemnet.models.single_task import task_network
from stemnet.models.tables import SHARED_TABLE, TableSpec


class _SharedEmbeddingModel(MultiTaskModel):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        specs = [TableSpec.stacked(SHARED_TABLE, schema.field_names, vocab_sizes)]
        super().__init__(specs, schema.field_names, list(schema.tasks), config.embedding_dim)


@register("esmm")
class ESMM(_SharedEmbeddingModel):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        super().__init__(config, schema, vocab_sizes)
        self.networks = nn.ModuleList(task_network(self.input_dim, config) for _ in self.tasks)

    def dense_logits(self, table_inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        x = table_inputs[SHARED_TABLE].flatten(1)
        conditional = torch.cat([net(x) for net in self.networks], dim=1)
        # log p_t = sum_{s<=t} log q_s: the product in log space, exact for tiny pay rates.
        return logit_of_log_prob(torch.cumsum(F.logsigmoid(conditional), dim=1))


class AttentionTransfer(nn.Module):
    """AITM's AIT module: attention over {transferred info, own tower output}."""

    def __init__(self, dim: int):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.scale = 1.0 / math.sqrt(dim)

    def forward(self, transferred: torch.Tensor, own: torch.Tensor) -> torch.Tensor:
        # Each Linear sees a 2-D [B, H] input: the ONNX exporter then keeps its weight as an initializer named
        # after the parameter (a Linear on a 3-D input becomes a MatMul with a folded, renamed, transposed copy),
        # which is how incremental training reads the dense weights back (stemnet/incremental.py).
        inputs = (transferred, own)
        scores = torch.stack([(self.query(u) * self.key(u)).sum(dim=-1) for u in inputs], dim=1) * self.scale  # [B, 2]
        weights = torch.softmax(scores, dim=1).unsqueeze(-1)
        return (weights * torch.stack([self.value(u) for u in inputs], dim=1)).sum(dim=1)


@register("aitm")
class AITM(_SharedEmbeddingModel):
    def __init__(self, config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]):
        super().__init__(config, schema, vocab_sizes)
        hidden = config.expert_hidden[-1]
        self.calibrator_weight = config.aitm_calibrator_weight
        self.towers = nn.ModuleList(mlp(self.input_dim, config.expert_hidden) for _ in self.tasks)
        # Links t-1 -> t for t = 1..T-1.
        self.transfers = nn.ModuleList(nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU()) for _ in self.tasks[1:])
        self.attention = nn.ModuleList(AttentionTransfer(hidden) for _ in self.tasks[1:])
        self.heads = nn.ModuleList(mlp(hidden, config.tower_hidden, 1) for _ in self.tasks)

    def dense_logits(self, table_inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        x = table_inputs[SHARED_TABLE].flatten(1)
        z = self.towers[0](x)
        logits = [self.heads[0](z)]
        for t in range(1, len(self.tasks)):
            z = self.attention[t - 1](self.transfers[t - 1](z), self.towers[t](x))
            logits.append(self.heads[t](z))
        return torch.cat(logits, dim=1)

    def auxiliary_loss(self, logits: torch.Tensor) -> torch.Tensor:
        probs = torch.sigmoid(logits)
        violation = torch.relu(probs[:, 1:] - probs[:, :-1])
        return self.calibrator_weight * violation.mean(dim=0).sum()
