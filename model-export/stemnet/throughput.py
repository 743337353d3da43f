"""Training throughput of a configured model on random inputs, and the FLOP rate it reaches
against a plain matrix multiply measured in the same process.

FLOPs count the dense layers only (2 * in * out per sample per nn.Linear, found with forward
hooks); a training step is taken as 3x the forward FLOPs (forward, and a backward pass with
two matrix products per layer). Embedding lookups, softmax and the optimizer are not counted,
so the ratio is a lower bound on how busy the model keeps the cores.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import torch
from torch import nn

from stemnet.config import Config
from stemnet.raw_data.schema import FieldSpec, Schema
from stemnet.raw_data.synthetic import SCHEMA, synthetic_vocab_sizes
from stemnet.models.base import MultiTaskModel
from stemnet.models.registry import build_model
from stemnet.train import resolve_device, training_loss

TRAINING_FLOPS_PER_FORWARD_FLOP = 3
MATMUL_SIZE = 512


@dataclass(frozen=True)
class Throughput:
    samples_per_second: float
    forward_flops_per_sample: float
    training_gflops: float  # achieved by the training steps
    matmul_gflops: float  # a plain [batch, 512] x [512, 512] matrix multiply
    threads: int

    @property
    def share_of_matmul_rate(self) -> float:
        return self.training_gflops / self.matmul_gflops


EXTRA_FIELD_VALUES = 100


def measure(config: Config, steps: int, warmup: int = 2, fields: int | None = None) -> Throughput:
    """`fields`: widen the synthetic schema's 8 fields to this many (extra item fields of EXTRA_FIELD_VALUES values
    each), e.g. 34 for the STEM reference code's KuaiRand input of 34 fields x 16. With train.compile the `warmup`
    steps compile (a minute at the paper's sizes): they are not timed."""
    device = resolve_device(config.train.device)
    batch = config.train.batch_size
    torch.manual_seed(config.train.seed)
    schema, vocab_sizes = SCHEMA, synthetic_vocab_sizes(config.data)
    if fields:
        schema, extra_sizes = _widened(fields)
        vocab_sizes = {**vocab_sizes, **extra_sizes}
    model = build_model(config.model, schema, vocab_sizes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.learning_rate)
    ids = _random_ids(schema, vocab_sizes, batch, device)
    labels = (torch.rand(batch, len(model.tasks), device=device) < 0.05).float()
    flops = _forward_flops_per_sample(model, ids)

    loss_of = training_loss(model, config.train, device)

    def step() -> None:
        loss = loss_of(ids, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    seconds = _timed(step, steps, warmup, device)
    samples_per_second = batch * steps / seconds
    return Throughput(
        samples_per_second=samples_per_second,
        forward_flops_per_sample=flops,
        training_gflops=TRAINING_FLOPS_PER_FORWARD_FLOP * flops * samples_per_second / 1e9,
        matmul_gflops=_matmul_gflops(batch, device),
        threads=torch.get_num_threads(),
    )


def _widened(fields: int) -> tuple[Schema, dict[str, int]]:
    if fields < len(SCHEMA.fields):
        raise ValueError(f"--fields: at least the synthetic schema's {len(SCHEMA.fields)}")
    extra = [FieldSpec(f"extra_{i}", "item") for i in range(fields - len(SCHEMA.fields))]
    schema = dataclasses.replace(SCHEMA, fields=SCHEMA.fields + tuple(extra))
    return schema, {spec.name: EXTRA_FIELD_VALUES + 1 for spec in extra}


def _random_ids(schema: Schema, vocab_sizes: dict[str, int], batch: int, device: torch.device) -> torch.Tensor:
    return torch.stack([torch.randint(0, vocab_sizes[f], (batch,), device=device) for f in schema.field_names], dim=1)


@torch.no_grad()
def _forward_flops_per_sample(model: MultiTaskModel, ids: torch.Tensor) -> float:
    total = 0

    def count(module: nn.Linear, inputs, output) -> None:
        nonlocal total
        total += 2 * module.in_features * module.out_features * inputs[0].shape[0]

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Linear)]
    try:
        model(ids)
    finally:
        for hook in hooks:
            hook.remove()
    return total / len(ids)


def _matmul_gflops(batch: int, device: torch.device, repeats: int = 20) -> float:
    a = torch.randn(batch, MATMUL_SIZE, device=device)
    b = torch.randn(MATMUL_SIZE, MATMUL_SIZE, device=device)
    seconds = _timed(lambda: torch.mm(a, b), repeats, warmup=3, device=device)
    return 2 * batch * MATMUL_SIZE * MATMUL_SIZE * repeats / seconds / 1e9


def _timed(work, steps: int, warmup: int, device: torch.device) -> float:
    for _ in range(warmup):
        work()
    _synchronize(device)
    started = time.perf_counter()
    for _ in range(steps):
        work()
    _synchronize(device)
    return time.perf_counter() - started


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
