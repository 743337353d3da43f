"""Data-parallel training over torch.distributed, launched by `torchrun`: one process per rank, the same code on
CPU (gloo) and GPU (NCCL).

Every rank holds the whole model. Each step, every rank draws the same global batch of rows from the shared shuffle
order and trains on its own slice of it (rank r takes rows r, r + W, r + 2W, ...), then the gradients of every
parameter, embedding tables included, are summed over the ranks in one all-reduce and divided by W. With equal slices
that is the gradient of the whole batch's mean loss, so W ranks take the same steps as one process with the same
batch size, on W times the cores. Rank 0 alone evaluates, checkpoints and exports; the others wait for its verdict.

The all-reduce is one explicit call after backward rather than DistributedDataParallel's hooks inside it: on CPU
there is little backward left to overlap it with, and a separate call lets each epoch report how its time splits
into data, forward/backward, all-reduce and optimizer (model-export/docs/distributed.md).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def start(device: torch.device, timeout: timedelta) -> Ranks:
    """Joins the process group torchrun describes in the environment (WORLD_SIZE, RANK, MASTER_ADDR, ...); a
    single rank when not under torchrun. A collective that waits longer than `timeout` for a rank (one that died
    or hangs) fails the run instead of hanging it."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Ranks()
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, timeout=timeout)
    return Ranks(dist.get_rank(), dist.get_world_size())


def stop(ranks: Ranks) -> None:
    if ranks.distributed and dist.is_initialized():
        dist.destroy_process_group()


def local_device(device: torch.device) -> torch.device:
    """One GPU per rank on a node: the rank's LOCAL_RANK-th."""
    if device.type != "cuda" or "LOCAL_RANK" not in os.environ:
        return device
    index = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


def average_gradients(model: torch.nn.Module, ranks: Ranks) -> None:
    """Sums every parameter's gradient over the ranks in one all-reduce and divides by the rank count. A parameter
    this rank's batch did not reach counts as a zero gradient, so every rank sends the same buffer layout."""
    if not ranks.distributed:
        return
    parameters = [p for p in model.parameters() if p.requires_grad]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in parameters]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= ranks.world_size
    offset = 0
    for parameter, grad in zip(parameters, grads):
        count = grad.numel()
        parameter.grad = flat[offset:offset + count].view_as(grad)
        offset += count


def from_main(value: Any, ranks: Ranks) -> Any:
    """Rank 0's `value` on every rank (e.g. its validation score, which decides early stopping everywhere)."""
    if not ranks.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
