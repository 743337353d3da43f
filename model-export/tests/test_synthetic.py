import dataclasses

import numpy as np
import pandas as pd
import pytest

from stemnet.cli import main
from stemnet.config import ConfigError, load_config
from stemnet.raw_data.synthetic import SCHEMA, SPLITS, draw_with_splits, generate
from conftest import CONFIGS


def _small(config):
    return dataclasses.replace(config.data, num_rows=20_000)


def test_same_seed_gives_byte_identical_files(tiny_config, tmp_path):
    generate(_small(tiny_config), tmp_path / "a")
    generate(_small(tiny_config), tmp_path / "b")
    for name in [f"{s}.parquet" for s in SPLITS] + ["schema.yaml"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_other_seed_gives_other_data(tiny_config, tmp_path):
    generate(_small(tiny_config), tmp_path / "a")
    generate(dataclasses.replace(_small(tiny_config), seed=tiny_config.data.seed + 1), tmp_path / "b")
    assert (tmp_path / "a" / "train.parquet").read_bytes() != (tmp_path / "b" / "train.parquet").read_bytes()


def test_positive_rates_and_true_probabilities(tiny_config, tiny_data):
    train = pd.read_parquet(tiny_data / "train.parquet")
    assert list(train.columns[: len(SCHEMA.fields)]) == SCHEMA.field_names
    for task, rate in tiny_config.data.positive_rates.items():
        assert abs(train[f"p_{task}"].mean() - rate) < 0.2 * rate
        assert abs(train[task].mean() - rate) < 0.35 * rate
        assert set(train[task].unique()) <= {0, 1}


def test_most_users_reach_min_count_in_train(tiny_config, tiny_data):
    counts = pd.read_parquet(tiny_data / "train.parquet")["user_id"].value_counts()
    assert (counts >= tiny_config.train.min_count).mean() > 0.9


def test_benchmark_setting_gives_every_user_enough_labels_to_identify_task_vectors(tmp_path):
    # docs/history/benchmarks-2026-11.md section 1 rests on these: v1 (3000 users) had ~1 pay and ~9 follow
    # positives per user, too few for a user's 5-number task vector; the 150-user setting has
    # ~90 follow and ~9 pay positives per user.
    config = load_config(CONFIGS / "benchmark.yaml").data
    generate(config, tmp_path)
    train = pd.read_parquet(tmp_path / "train.parquet")
    per_user = train.groupby("user_id")[list(SCHEMA.tasks)].agg(["size", "sum"])
    assert len(per_user) == config.num_users
    impressions = per_user[("follow", "size")]
    assert impressions.quantile(0.1) > 500
    assert per_user[("follow", "sum")].median() > 50
    assert per_user[("pay", "sum")].mean() > 5


def _follow_pay_correlation(config):
    draw, _ = draw_with_splits(config)
    follow, pay = draw.task_scores["follow"], draw.task_scores["pay"]
    conflicting, agreeing = draw.conflict_row, ~draw.conflict_row
    return (
        np.corrcoef(follow[conflicting], pay[conflicting])[0, 1],
        np.corrcoef(follow[agreeing], pay[agreeing])[0, 1],
    )


def test_conflict_correlation_sets_how_far_conflicting_users_follow_and_pay_preferences_part(tiny_config):
    base = dataclasses.replace(_small(tiny_config), num_users=2000, conflict_user_fraction=0.5)
    negated, agreeing = _follow_pay_correlation(base)
    assert negated == pytest.approx(-1.0, abs=1e-9)
    assert agreeing > 0.6
    partial, _ = _follow_pay_correlation(dataclasses.replace(base, conflict_correlation=-0.5))
    assert partial == pytest.approx(-0.5, abs=0.1)


def test_conflict_correlation_outside_minus_one_to_one_is_refused(tiny_config, tmp_path):
    with pytest.raises(ConfigError, match="data.conflict_correlation"):
        generate(dataclasses.replace(_small(tiny_config), conflict_correlation=-1.5), tmp_path)


def test_generate_set_overrides_a_data_key_and_refuses_an_unknown_one(tmp_path, capsys):
    config = str(CONFIGS / "tiny.yaml")
    code = main(["generate", "--config", config, "--out", str(tmp_path / "d"),
                 "--set", "data.num_users=40", "--set", "data.num_rows=3000"])
    assert code == 0
    assert pd.read_parquet(tmp_path / "d" / "train.parquet")["user_id"].nunique() <= 40
    assert main(["generate", "--config", config, "--out", str(tmp_path / "e"), "--set", "data.num_user=40"]) == 2
    assert "data: unknown key(s) ['num_user']" in capsys.readouterr().err
