"""How much gate weight each task puts on shared experts, its own experts and other tasks' experts."""
from __future__ import annotations

import torch

from stemnet.encoded_data.dataset import EncodedSplit, make_loader
from stemnet.models.base import MultiTaskModel
from stemnet.models.mixture import SHARED_OWNER

GROUPS = ("shared", "own", "other tasks")


def owner_group(owner: str, task: str) -> str:
    if owner == SHARED_OWNER:
        return "shared"
    return "own" if owner == task else "other tasks"


@torch.no_grad()
def average_gate_weights(
    model: MultiTaskModel, split: EncodedSplit, batch_size: int, device: torch.device
) -> dict[str, dict[str, float]]:
    """Per task, the gate weight on each GROUPS entry averaged over the split's samples."""
    model.eval()
    totals = {task: dict.fromkeys(GROUPS, 0.0) for task in model.tasks}
    for ids, _ in make_loader(split, batch_size, shuffle=False):
        _, gates = model.logits_and_gates(model.embeddings(ids.to(device)))
        for task, gate in gates.items():
            column_sums = gate.sum(dim=0).cpu().numpy()
            for weight, expert in zip(column_sums, model.visible_experts[task]):
                totals[task][owner_group(model.expert_owners[expert], task)] += float(weight)
    return {task: {g: w / len(split) for g, w in groups.items()} for task, groups in totals.items()}


def is_gated(model: torch.nn.Module) -> bool:
    """Models with per-task gates over experts (the mixtures and STEM-Net) offer logits_and_gates and expert_owners."""
    return hasattr(model, "logits_and_gates") and hasattr(model, "expert_owners")


