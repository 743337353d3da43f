"""K expert MLPs that read the same input, computed together.

The paper-sized models spend almost all of a training step in the experts' matrix multiplications (8 shared experts
of 512-512-512 on a 544-wide input at batch 4096). Run one by one, each expert is a chain of small GEMMs and an
allocation per layer; run as a group, the first layer is one wide GEMM (input x [in, K*h]) and every later layer one
batched GEMM over the K experts. The parameters and the function are those of K separate `mlp(in, hidden)` experts.
"""
from __future__ import annotations

import math

import torch
from torch import nn


class ExpertGroup(nn.Module):
    """`count` experts, each Linear+ReLU per size in `hidden`, on one [B, in_dim] input; outputs [count, B, hidden[-1]]."""

    def __init__(self, in_dim: int, hidden: list[int], count: int):
        super().__init__()
        if not hidden:
            raise ValueError("an expert needs at least one hidden layer")
        self.count = count
        self.hidden = list(hidden)
        # Layer 0 as one Linear of count * hidden[0] outputs: expert k owns outputs [k*h0, (k+1)*h0).
        self.first = nn.Linear(in_dim, count * hidden[0])
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for size_in, size_out in zip(hidden, hidden[1:]):
            self.weights.append(nn.Parameter(torch.empty(count, size_in, size_out)))
            self.biases.append(nn.Parameter(torch.empty(count, 1, size_out)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """nn.Linear's initialisation for each expert's layers: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        self.first.reset_parameters()
        for weight, bias in zip(self.weights, self.biases):
            bound = 1.0 / math.sqrt(weight.shape[1])
            nn.init.uniform_(weight, -bound, bound)
            nn.init.uniform_(bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        h = torch.relu(self.first(x)).view(batch, self.count, self.hidden[0]).transpose(0, 1)
        for weight, bias in zip(self.weights, self.biases):
            h = torch.relu(torch.baddbmm(bias, h, weight))
        return h
