"""The synthetic-truth analysis: true-logit parts, conflicting users, models per user group."""
import dataclasses

import numpy as np
import pandas as pd
import pytest

from stemnet.analysis.truth import GROUPS, ORACLES, model_group_aucs, oracle_aucs, render_truth
from stemnet.raw_data.schema import DataError
from stemnet.raw_data.synthetic import SCHEMA, draw_with_splits
from stemnet.evaluate import roc_auc


@pytest.fixture(scope="module")
def data_config(tiny_config):
    return dataclasses.replace(tiny_config.data, num_rows=20_000)


def test_draw_matches_the_written_splits_and_the_conflict_it_claims(tiny_config, tiny_data):
    draw, rows = draw_with_splits(tiny_config.data)
    test = pd.read_parquet(tiny_data / "test.parquet")
    assert test["user_id"].tolist() == draw.frame["user_id"].iloc[rows["test"]].tolist()
    assert np.allclose(test["p_pay"].to_numpy(), 1 / (1 + np.exp(-draw.logits["pay"][rows["test"]])))
    conflict = draw.conflict_row
    assert 0 < conflict.mean() < 1
    # Conflicting users' follow vector is the negation of pay's; agreeing users' is not.
    assert np.allclose(draw.task_scores["follow"][conflict], -draw.task_scores["pay"][conflict])
    assert not np.allclose(draw.task_scores["follow"][~conflict], -draw.task_scores["pay"][~conflict])


def test_the_full_logit_ranks_as_well_as_the_true_probabilities_and_beats_its_parts(data_config):
    aucs, labels, conflict = oracle_aucs(data_config)
    draw, rows = draw_with_splits(data_config)
    for t, task in enumerate(SCHEMA.tasks):
        bayes = roc_auc(labels[:, t], draw.frame[f"p_{task}"].to_numpy()[rows["test"]])
        assert aucs[task][ORACLES[2]][GROUPS[0]] == pytest.approx(bayes)
        assert aucs[task][ORACLES[2]][GROUPS[0]] > aucs[task][ORACLES[0]][GROUPS[0]]
    # The shared dot product is a part of the shared score, and what is left without it is not zero.
    assert np.all(np.abs(draw.shared_interaction) > 0) and not np.allclose(draw.shared_interaction, draw.shared_score)
    assert len(conflict) == len(labels) == len(rows["test"])


def test_models_per_group_from_saved_predictions(data_config, tmp_path):
    _, labels, conflict = oracle_aucs(data_config)
    draw, rows = draw_with_splits(data_config)
    true_probs = np.column_stack([draw.frame[f"p_{t}"].to_numpy()[rows["test"]] for t in SCHEMA.tasks])
    noise = np.random.default_rng(0).random(true_probs.shape)
    path = tmp_path / "predictions.npz"
    np.savez(path, tasks=np.array(SCHEMA.tasks), labels=labels, **{"oracle/seed0": true_probs, "noise/seed0": noise})

    models = model_group_aucs(path, labels, conflict)
    pay = list(SCHEMA.tasks).index("pay")
    assert models["oracle"]["pay"][GROUPS[2]][0] == pytest.approx(roc_auc(labels[conflict, pay], true_probs[conflict, pay]))
    assert models["noise"]["pay"][GROUPS[1]][0] < models["oracle"]["pay"][GROUPS[1]][0]
    assert "| oracle |" in render_truth(data_config, "test", path)


def test_predictions_from_other_data_are_rejected(data_config, tmp_path):
    _, labels, conflict = oracle_aucs(data_config)
    path = tmp_path / "predictions.npz"
    np.savez(path, tasks=np.array(SCHEMA.tasks), labels=1 - labels, **{"mmoe/seed0": np.zeros(labels.shape)})
    with pytest.raises(DataError, match="not the ones this config generates"):
        model_group_aucs(path, labels, conflict)
