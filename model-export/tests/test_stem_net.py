import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stemnet.config import ConfigError, ModelConfig
from stemnet.raw_data.synthetic import SCHEMA
from stemnet.export.onnx_graph import check_against_torch, export_dense
from stemnet.models.registry import build_model
from stemnet.models.tables import SHARED_TABLE, task_table
from stemnet.train import multitask_loss

VOCAB_SIZES = {name: 5 + i for i, name in enumerate(SCHEMA.field_names)}
CONFIG = ModelConfig(embedding_dim=4, expert_hidden=[8, 8], gate_hidden=[6], tower_hidden=[6], num_task_experts=2)


def _model(config=CONFIG):
    torch.manual_seed(0)
    return build_model(config, SCHEMA, VOCAB_SIZES)


def _ids(batch=32):
    generator = torch.Generator().manual_seed(1)
    return torch.stack([torch.randint(0, VOCAB_SIZES[n], (batch,), generator=generator) for n in SCHEMA.field_names], 1)


def _grad_norm(params) -> float:
    return sum(0.0 if p.grad is None else float(p.grad.abs().sum()) for p in params)


@pytest.mark.parametrize("task", SCHEMA.tasks)
def test_a_tasks_loss_trains_only_its_own_and_the_shared_parameters(task):
    model = _model()
    ids = _ids()
    t = model.tasks.index(task)
    logits = model.dense_logits(model.embeddings(ids))
    F.binary_cross_entropy_with_logits(logits[:, t], torch.ones(len(ids))).backward()

    tables = {spec.name: model.embeddings.weight(spec) for spec in model.table_specs}
    assert _grad_norm([tables[task_table(task)]]) > 0
    assert _grad_norm([tables[SHARED_TABLE]]) > 0
    assert _grad_norm(model.shared_experts.parameters()) > 0
    for owner, experts in model.task_experts.items():
        assert (_grad_norm(experts.parameters()) > 0) == (owner == task), owner
    for name in model.tasks:
        if name != task:
            assert _grad_norm([tables[task_table(name)]]) == 0.0


def test_other_tasks_experts_still_reach_the_forward_pass():
    model = _model().eval()
    ids = _ids()
    before = model(ids)
    with torch.no_grad():
        for p in model.task_experts["pay"].parameters():
            p.add_(0.5)
    after = model(ids)
    # Changing pay's experts moves follow's score: all forward, even though backward is cut.
    assert not torch.allclose(before[:, 0], after[:, 0])


def test_task_tables_cover_only_the_configured_fields_and_export_matches(tmp_path):
    config = dataclasses.replace(CONFIG, task_specific_fields=["ad_id", "user_id"])
    model = _model(config).eval()
    specs = {spec.name: spec for spec in model.table_specs}
    assert specs[task_table("pay")].fields == ("user_id", "ad_id")
    assert specs[task_table("pay")].rows == VOCAB_SIZES["user_id"] + VOCAB_SIZES["ad_id"]
    assert specs[SHARED_TABLE].fields == tuple(SCHEMA.field_names)

    ids = _ids(batch=5)
    with torch.no_grad():
        inputs = model.embeddings(ids)
        expected = model.forward_dense(inputs).numpy()
    signature = export_dense(model, tmp_path / "model.onnx", opset=18)
    worst = check_against_torch(tmp_path / "model.onnx", signature, [t.numpy() for t in inputs.values()], expected)
    assert worst <= 1e-5
    assert np.isfinite(expected).all()


def test_unknown_task_specific_field_is_named():
    with pytest.raises(ConfigError, match="task_specific_fields.*'clicks'"):
        _model(dataclasses.replace(CONFIG, task_specific_fields=["ad_id", "clicks"]))


def test_unknown_architecture_is_named():
    with pytest.raises(ConfigError, match="'mmoe_v9'"):
        _model(dataclasses.replace(CONFIG, architecture="mmoe_v9"))


def test_whole_table_l2_also_counts_the_rows_a_batch_does_not_read():
    model = _model()
    ids = torch.zeros(4, len(SCHEMA.field_names), dtype=torch.long)  # only the OOV rows
    touched = sum(model.embeddings.l2_by_table(ids).values())
    whole = sum(model.embeddings.l2_by_table(None).values())
    expected = sum(model.embeddings.weight(spec).pow(2).sum() for spec in model.table_specs)
    assert torch.isclose(whole, expected)
    oov_rows = sum(model.embeddings.weight(s)[list(s.row_offsets)].pow(2).sum() for s in model.table_specs)
    assert torch.isclose(touched, oov_rows)
    assert whole > 2 * touched


def _loss(model, ids, labels, **l2):
    torch.manual_seed(0)
    return multitask_loss(model, ids, labels, embedding_l2=1.0e-6, **l2)


@pytest.mark.parametrize("scope", ["touched_rows", "whole_table"])
def test_task_table_l2_replaces_embedding_l2_on_task_tables_only(scope):
    # In float64: the penalty difference (~1e-5) is below a float32 loss's rounding at rtol 1e-4.
    model = _model().double()
    ids, labels = _ids(), torch.zeros(32, len(SCHEMA.tasks), dtype=torch.float64)
    per_table = model.embeddings.l2_by_table(ids if scope == "touched_rows" else None)
    task_rows = sum(value for name, value in per_table.items() if name != SHARED_TABLE)
    assert task_rows > 0

    default = _loss(model, ids, labels, l2_scope=scope)
    stronger = _loss(model, ids, labels, l2_scope=scope, task_table_l2=1.0)
    # Only the task tables' weight moves from 1e-6 to 1.0; the shared table keeps embedding_l2.
    assert torch.isclose(stronger - default, (1.0 - 1.0e-6) * task_rows, rtol=1e-4)


def test_task_table_l2_unset_keeps_one_embedding_l2_for_every_table():
    model = _model()
    ids, labels = _ids(), torch.zeros(32, len(SCHEMA.tasks))
    logits = model.dense_logits(model.embeddings(ids))
    bce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none").mean(dim=0).sum()
    expected = bce + 1.0e-6 * sum(model.embeddings.l2_by_table(ids).values())
    assert torch.isclose(_loss(model, ids, labels), expected)


def test_task_table_l2_does_not_touch_models_with_only_a_shared_table():
    model = _model(dataclasses.replace(CONFIG, architecture="mmoe"))
    ids, labels = _ids(), torch.zeros(32, len(SCHEMA.tasks))
    assert [spec.name for spec in model.table_specs] == [SHARED_TABLE]
    assert torch.equal(_loss(model, ids, labels), _loss(model, ids, labels, task_table_l2=1.0))
