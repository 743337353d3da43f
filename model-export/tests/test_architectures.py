"""Every registered architecture trains, exports a bundle the service can score, and keeps the
structure its paper describes."""
import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from stemnet.config import ModelConfig
from stemnet.raw_data.synthetic import SCHEMA
from stemnet.export.bundle import write_bundle
from stemnet.incremental import read_bundle
from stemnet.models.mixture import SHARED_OWNER
from stemnet.models.registry import architecture_names, build_model
from stemnet.models.tables import task_table
from stemnet.train import train

from bundle_scorer import TOLERANCE, parity_lines, worst_parity_error

VOCAB_SIZES = {name: 5 + i for i, name in enumerate(SCHEMA.field_names)}
CONFIG = ModelConfig(embedding_dim=4, expert_hidden=[8, 8], gate_hidden=[6], tower_hidden=[6], num_task_experts=2)
EXPECTED_ARCHITECTURES = {
    "single_task", "shared_bottom", "omoe", "mmoe", "ple", "me_mmoe", "me_ple",
    "stem_net", "stem_net_user_side", "stem_net_item_side", "esmm", "aitm",
}


def _model(architecture: str, **changes):
    torch.manual_seed(0)
    return build_model(dataclasses.replace(CONFIG, architecture=architecture, **changes), SCHEMA, VOCAB_SIZES)


def _ids(batch=64):
    generator = torch.Generator().manual_seed(1)
    return torch.stack([torch.randint(0, VOCAB_SIZES[n], (batch,), generator=generator) for n in SCHEMA.field_names], 1)


def test_the_registry_has_every_architecture_of_the_issue():
    assert set(architecture_names()) == EXPECTED_ARCHITECTURES


@pytest.mark.parametrize("architecture", sorted(EXPECTED_ARCHITECTURES))
def test_architecture_trains_and_its_bundle_reproduces_pytorch(architecture, tiny_config, tiny_data, tmp_path):
    config = dataclasses.replace(
        tiny_config,
        model=dataclasses.replace(tiny_config.model, architecture=architecture),
        train=dataclasses.replace(tiny_config.train, epochs=1),
    )
    result = train(config, tiny_data)
    # write_bundle itself refuses a graph that ONNX Runtime scores differently from PyTorch.
    bundle = write_bundle(tmp_path / architecture, result, config)
    assert len(parity_lines(bundle)) >= config.export.parity_requests
    assert worst_parity_error(bundle) <= TOLERANCE
    # Incremental training reads the dense weights back from the graph's initializers and refuses a bundle
    # whose rebuilt PyTorch model misses its fixtures: every architecture must come back exactly.
    state = read_bundle(bundle)  # raises unless the model rebuilt from the bundle reproduces its fixtures
    assert set(state.dense) == {k for k in result.model.state_dict() if not k.startswith("embeddings.")}
    # Untrained, every output starts near 0.5 (logloss log 2); one epoch must already beat that.
    assert all(m["logloss"] < math.log(2.0) for m in result.metrics["test"].values() if isinstance(m, dict))


def test_me_mmoe_has_one_table_per_expert_and_each_expert_reads_its_own():
    model = _model("me_mmoe")
    names = [spec.name for spec in model.table_specs]
    assert names == [f"expert:{i}" for i in range(len(model.experts))]
    assert len(model.experts) == CONFIG.num_shared_experts + CONFIG.num_task_experts * len(SCHEMA.tasks)
    ids = _ids()
    model.dense_logits(model.embeddings(ids))[:, 0].sum().backward()
    for spec in model.table_specs:
        assert model.embeddings.weight(spec).grad.abs().sum() > 0


def test_esmm_probabilities_are_monotone_down_the_funnel():
    model = _model("esmm").eval()
    with torch.no_grad():
        for p in model.parameters():  # large random weights, so the conditionals spread over (0, 1)
            p.normal_(0.0, 1.0)
        probs = model(_ids(batch=512))
    assert (probs[:, 1:] <= probs[:, :-1] + 1e-7).all()
    assert probs[:, 0].std() > 0.01 and probs[:, 2].std() > 0.01


def test_aitm_calibrator_penalises_a_later_task_scoring_above_an_earlier_one():
    model = _model("aitm")
    ordered = torch.tensor([[2.0, 0.0, -1.0]])
    inverted = torch.tensor([[-1.0, 0.0, 2.0]])
    assert model.auxiliary_loss(ordered).item() == 0.0
    expected = CONFIG.aitm_calibrator_weight * (torch.sigmoid(torch.tensor(0.0)) - torch.sigmoid(torch.tensor(-1.0)) + torch.sigmoid(torch.tensor(2.0)) - 0.5)
    assert model.auxiliary_loss(inverted).item() == pytest.approx(expected.item(), rel=1e-6)


def test_single_task_networks_share_nothing():
    model = _model("single_task")
    assert [spec.name for spec in model.table_specs] == [task_table(t) for t in SCHEMA.tasks]
    logits = model.dense_logits(model.embeddings(_ids()))
    F.binary_cross_entropy_with_logits(logits[:, 2], torch.ones(len(logits))).backward()
    for t, task in enumerate(SCHEMA.tasks):
        table_grad = model.embeddings.tables[task_table(task).replace(":", "_")].weight.grad
        touched = table_grad is not None and table_grad.abs().sum() > 0
        assert touched == (t == 2)


@pytest.mark.parametrize(("architecture", "side"), [("stem_net_user_side", "user"), ("stem_net_item_side", "item")])
def test_one_side_stem_net_gives_task_tables_to_that_sides_fields_only(architecture, side):
    model = _model(architecture)
    specs = {spec.name: spec for spec in model.table_specs}
    assert specs[task_table("pay")].fields == tuple(f.name for f in SCHEMA.fields if f.side == side)


@pytest.mark.parametrize(("architecture", "sees_other_tasks"), [("ple", False), ("me_ple", False), ("stem_net", True)])
def test_a_tasks_gate_sees_other_tasks_experts_only_in_stem_net(architecture, sees_other_tasks):
    model = _model(architecture)
    owners = {model.expert_owners[i] for i in model.visible_experts["follow"]}
    assert {SHARED_OWNER, "follow"} <= owners
    assert (owners == {SHARED_OWNER, *SCHEMA.tasks}) == sees_other_tasks
