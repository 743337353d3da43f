"""The training-speed settings (train.precision bf16, train.compile) change how the step's loss is computed, not
what it is."""
import dataclasses

import torch

from stemnet.config import ModelConfig, TrainConfig
from stemnet.raw_data.synthetic import SCHEMA
from stemnet.models.registry import build_model
from stemnet.train import training_loss

VOCAB_SIZES = {name: 7 for name in SCHEMA.field_names}
CONFIG = ModelConfig(embedding_dim=4, expert_hidden=[16, 16], gate_hidden=[8], tower_hidden=[8], num_shared_experts=2)


def _inputs():
    generator = torch.Generator().manual_seed(3)
    ids = torch.randint(0, 7, (64, len(SCHEMA.field_names)), generator=generator)
    labels = (torch.rand(64, len(SCHEMA.tasks), generator=generator) < 0.3).float()
    return ids, labels


def _loss(**settings) -> torch.Tensor:
    torch.manual_seed(0)
    model = build_model(CONFIG, SCHEMA, VOCAB_SIZES)
    with torch.no_grad():  # embedding rows (init std 1e-4) scaled up, so that bf16 rounding shows in the loss
        for parameter in model.parameters():
            parameter.mul_(50.0 if parameter.dim() == 2 and parameter.shape[1] == CONFIG.embedding_dim else 1.0)
    loss = training_loss(model, dataclasses.replace(TrainConfig(), **settings), torch.device("cpu"))(*_inputs())
    loss.backward()
    return loss.detach()


def test_bf16_computes_the_same_loss_in_bfloat16():
    fp32, bf16 = _loss(), _loss(precision="bf16")
    assert not torch.equal(fp32, bf16)  # the products did run in bfloat16
    torch.testing.assert_close(bf16, fp32, rtol=2e-2, atol=0)


def test_a_compiled_step_computes_what_the_eager_one_does():
    torch.testing.assert_close(_loss(compile=True), _loss(), rtol=1e-5, atol=1e-6)
