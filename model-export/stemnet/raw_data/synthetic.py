"""Synthetic ad-funnel impressions drawn from a known generative model.

Each task's logit is a calibrated bias, plus a shared preference score (user/ad latent dot
product, per-user and per-ad offsets, attribute effects) and a task-specific score (user task
vector . ad task vector, including the user's propensity for the task). For most users the
task vectors agree; for `conflict_user_fraction` of users follow's vector is anti-correlated
with pay's (`conflict_correlation`; -1 is the exact negation), which is the paper's "comparable
samples" case: one shared embedding cannot serve both tasks. Pay leans hardest on its own score.
The true probabilities are kept as `p_<task>` columns so evaluation can report the Bayes-optimal AUC.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stemnet.config import ConfigError, DataConfig
from stemnet.raw_data.schema import FieldSpec, Schema

SCHEMA = Schema(
    fields=(
        FieldSpec("user_id", "user"),
        FieldSpec("user_segment", "user"),
        FieldSpec("device", "user"),
        FieldSpec("age_band", "user"),
        FieldSpec("ad_id", "item"),
        FieldSpec("advertiser", "item"),
        FieldSpec("category", "item"),
        FieldSpec("creative_type", "item"),
    ),
    tasks=("follow", "activation", "pay"),
    user_id_field="user_id",
    item_id_field="ad_id",
)

SEGMENTS = [f"s{i}" for i in range(8)]
DEVICES = ["ios", "android", "web"]
AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55+"]
CATEGORIES = [f"c{i}" for i in range(20)]
CREATIVE_TYPES = ["image", "video", "carousel", "text"]
ADS_PER_ADVERTISER = 5

# How strongly each task follows the shared score and its own task score.
SHARED_WEIGHT = {"follow": 1.0, "activation": 0.8, "pay": 0.5}
TASK_WEIGHT = {"follow": 0.8, "activation": 1.0, "pay": 1.8}
SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Population:
    """Users or ads: categorical attributes plus latent vectors, indexed by entity."""

    attributes: dict[str, np.ndarray]
    shared_vectors: np.ndarray
    task_vectors: dict[str, np.ndarray]
    # Users only: True where follow's task vector is the negation of pay's.
    conflict: Optional[np.ndarray] = None


@dataclass(frozen=True)
class Draw:
    """Every generated row (before the split) with the parts of its true logit, for analyses
    that ask which part of the signal a model recovers."""

    frame: pd.DataFrame
    user_idx: np.ndarray
    conflict_row: np.ndarray  # the row's user has opposite follow and pay preferences
    shared_score: np.ndarray
    shared_interaction: np.ndarray  # the user x ad latent dot product inside shared_score
    task_scores: dict[str, np.ndarray]  # user task vector . ad task vector, propensity included
    propensities: dict[str, np.ndarray]  # the user's per-task offset inside task_scores
    logits: dict[str, np.ndarray]  # true logit, calibrated bias included


def synthetic_vocab_sizes(config: DataConfig) -> dict[str, int]:
    """Rows per field (OOV included) when every generated value makes the vocabulary."""
    distinct = {
        "user_id": config.num_users,
        "user_segment": len(SEGMENTS),
        "device": len(DEVICES),
        "age_band": len(AGE_BANDS),
        "ad_id": config.num_ads,
        "advertiser": max(1, config.num_ads // ADS_PER_ADVERTISER),
        "category": len(CATEGORIES),
        "creative_type": len(CREATIVE_TYPES),
    }
    return {name: count + 1 for name, count in distinct.items()}


def generate(config: DataConfig, out_dir: Path, days: Optional[tuple[int, int]] = None) -> dict[str, int]:
    """Writes train/valid/test Parquet files and schema.yaml; returns rows per split. `days` (first, last),
    for a config with `days`: only the rows of those days (each split keeps the rows it has on them)."""
    draw, rng = _draw(config)
    rows = split_rows(len(draw.frame), config, rng)
    if days is not None:
        first, last = _check_days(config, days)
        day = draw.frame["day"].to_numpy()
        rows = {split: picked[(day[picked] >= first) & (day[picked] <= last)] for split, picked in rows.items()}
    return _write_splits(draw.frame, rows, out_dir)


def _check_days(config: DataConfig, days: tuple[int, int]) -> tuple[int, int]:
    first, last = days
    if config.days == 0:
        raise ConfigError("--days: the config's data has no days (set data.days)")
    if not 1 <= first <= last <= config.days:
        raise ConfigError(f"--days: expected a range within 1-{config.days}, got {first}-{last}")
    return first, last


def draw_with_splits(config: DataConfig) -> tuple[Draw, dict[str, np.ndarray]]:
    """The same rows `generate` writes, with their logit parts, and each split's row indices
    into `Draw.frame` (in the order the split file holds them)."""
    draw, rng = _draw(config)
    return draw, split_rows(len(draw.frame), config, rng)


def _draw(config: DataConfig) -> tuple[Draw, np.random.Generator]:
    """The rows and the generator after drawing them, whose next draw orders the split."""
    _check_config(config)
    rng = np.random.default_rng(config.seed)
    users = _make_users(config, rng)
    ads = _make_ads(config, rng)
    effects = _attribute_effects(rng)
    if config.days:
        day, user_idx, ad_idx = _draw_days(config, rng)
    else:
        user_idx = rng.choice(config.num_users, size=config.num_rows, p=_popularity(config, config.num_users, rng))
        ad_idx = rng.choice(config.num_ads, size=config.num_rows, p=_popularity(config, config.num_ads, rng))
    frame = _features(users, ads, user_idx, ad_idx)
    shared = _shared_score(users, ads, user_idx, ad_idx, effects)
    task_scores, logits = {}, {}
    for task in SCHEMA.tasks:
        task_score = np.einsum(
            "nd,nd->n", users.task_vectors[task][user_idx], ads.task_vectors[task][ad_idx]
        )
        logit = SHARED_WEIGHT[task] * shared + TASK_WEIGHT[task] * task_score
        logit = logit + _calibrated_bias(logit, config.positive_rates[task])
        prob = _sigmoid(logit)
        frame[Schema.label_column(task)] = (rng.random(config.num_rows) < prob).astype(np.int8)
        frame[Schema.probability_column(task)] = prob
        task_scores[task], logits[task] = task_score, logit
    if config.days:
        frame["day"] = day
    draw = Draw(
        frame=frame,
        user_idx=user_idx,
        conflict_row=users.conflict[user_idx],
        shared_score=shared,
        shared_interaction=np.einsum(
            "nd,nd->n", users.shared_vectors[user_idx, : config.latent_dim], ads.shared_vectors[ad_idx, : config.latent_dim]
        ),
        task_scores=task_scores,
        # The users' last task-vector column meets the ads' column of ones (see _make_ads).
        propensities={t: users.task_vectors[t][user_idx, -1] for t in SCHEMA.tasks},
        logits=logits,
    )
    return draw, rng


def _check_config(config: DataConfig) -> None:
    if set(config.positive_rates) != set(SCHEMA.tasks):
        raise ConfigError(f"data.positive_rates: must name exactly the tasks {list(SCHEMA.tasks)}")
    if not -1.0 <= config.conflict_correlation <= 1.0:
        raise ConfigError(f"data.conflict_correlation: must lie in [-1, 1], got {config.conflict_correlation}")
    if config.days < 0:
        raise ConfigError(f"data.days: expected 0 (no days) or more, got {config.days}")
    for key in ("late_ad_fraction", "late_user_fraction"):
        value = getattr(config, key)
        if not 0.0 <= value < 1.0:
            raise ConfigError(f"data.{key}: must lie in [0, 1), got {value}")
        if value > 0 and config.days < 2:
            raise ConfigError(f"data.{key}: needs data.days of 2 or more (late entities launch on days 2..N)")


def _draw_days(config: DataConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day (1..N, ascending), user and ad of every row: each day's rows drawn from the users and ads launched
    by that day, with the same popularity weights renormalised."""
    user_weights = _popularity(config, config.num_users, rng)
    ad_weights = _popularity(config, config.num_ads, rng)
    user_launch = _launch_days(rng, config.num_users, config.late_user_fraction, config.days)
    ad_launch = _launch_days(rng, config.num_ads, config.late_ad_fraction, config.days)
    day = np.sort(rng.integers(1, config.days + 1, size=config.num_rows))
    user_idx = np.empty(config.num_rows, dtype=np.int64)
    ad_idx = np.empty(config.num_rows, dtype=np.int64)
    for d in range(1, config.days + 1):
        rows = np.flatnonzero(day == d)
        for target, weights, launch in ((user_idx, user_weights, user_launch), (ad_idx, ad_weights, ad_launch)):
            available = np.where(launch <= d, weights, 0.0)
            target[rows] = rng.choice(len(weights), size=len(rows), p=available / available.sum())
    return day, user_idx, ad_idx


def _launch_days(rng: np.random.Generator, count: int, late_fraction: float, days: int) -> np.ndarray:
    """Day 1 for most entities; `late_fraction` of them (never all) launch on a day drawn from 2..days."""
    launch = np.ones(count, dtype=np.int64)
    late = rng.random(count) < late_fraction
    late[0] = False  # at least one entity exists on day 1
    launch[late] = rng.integers(2, days + 1, size=int(late.sum()))
    return launch


def _latent(rng: np.random.Generator, count: int, dim: int) -> np.ndarray:
    # Scaled so that a dot product of two independent vectors has unit variance.
    return rng.normal(0.0, dim ** -0.25, size=(count, dim))


def _with_columns(latent: np.ndarray, *columns: np.ndarray) -> np.ndarray:
    return np.column_stack([latent, *columns])


def _make_users(config: DataConfig, rng: np.random.Generator) -> Population:
    n, dim = config.num_users, config.latent_dim
    attributes = {
        "user_id": np.array([f"u{i}" for i in range(n)], dtype=object),
        "user_segment": rng.choice(SEGMENTS, size=n),
        "device": rng.choice(DEVICES, size=n, p=[0.45, 0.45, 0.10]),
        "age_band": rng.choice(AGE_BANDS, size=n, p=[0.2, 0.3, 0.25, 0.15, 0.1]),
    }
    # The extra columns pair with the ads' columns below so that each dot product also adds a
    # per-user offset (shared: the user's base rate; task: the user's propensity for the task).
    shared = _with_columns(_latent(rng, n, dim), rng.normal(0.0, 0.7, n), np.ones(n))
    base = _with_columns(_latent(rng, n, dim), rng.normal(0.0, 1.0, n))
    # Agreeing users: every task vector is the base plus a little task noise, renormalised.
    task_vectors = {
        t: (base + 0.5 * _with_columns(_latent(rng, n, dim), rng.normal(0.0, 1.0, n))) / np.sqrt(1.25)
        for t in SCHEMA.tasks
    }
    conflict = rng.random(n) < config.conflict_user_fraction
    rho = config.conflict_correlation
    follow_of_conflicting = rho * task_vectors["pay"][conflict]
    if rho != -1.0:
        # Drawn only when used, so that the default (-1) keeps every earlier data file byte-identical.
        independent = _with_columns(_latent(rng, n, dim), rng.normal(0.0, 1.0, n))[conflict]
        follow_of_conflicting = follow_of_conflicting + np.sqrt(1.0 - rho**2) * independent
    task_vectors["follow"][conflict] = follow_of_conflicting
    return Population(attributes, shared, task_vectors, conflict)


def _make_ads(config: DataConfig, rng: np.random.Generator) -> Population:
    n, dim = config.num_ads, config.latent_dim
    num_advertisers = max(1, n // ADS_PER_ADVERTISER)
    attributes = {
        "ad_id": np.array([f"a{i}" for i in range(n)], dtype=object),
        "advertiser": np.array([f"adv{i}" for i in rng.integers(num_advertisers, size=n)], dtype=object),
        "category": rng.choice(CATEGORIES, size=n),
        "creative_type": rng.choice(CREATIVE_TYPES, size=n),
    }
    shared = _with_columns(_latent(rng, n, dim), np.ones(n), rng.normal(0.0, 0.7, n))
    # One task vector for every task, so negating a user's vector negates the task score.
    task_vector = _with_columns(_latent(rng, n, dim), np.ones(n))
    return Population(attributes, shared, {t: task_vector for t in SCHEMA.tasks})


def _attribute_effects(rng: np.random.Generator) -> dict[str, dict[str, float]]:
    vocabularies = {
        "user_segment": SEGMENTS,
        "device": DEVICES,
        "age_band": AGE_BANDS,
        "category": CATEGORIES,
        "creative_type": CREATIVE_TYPES,
    }
    effects = {name: dict(zip(values, rng.normal(0.0, 0.3, len(values)))) for name, values in vocabularies.items()}
    pairs = [(s, c) for s in SEGMENTS for c in CATEGORIES]
    effects["segment_x_category"] = dict(zip(pairs, rng.normal(0.0, 0.5, len(pairs))))
    return effects


def _popularity(config: DataConfig, count: int, rng: np.random.Generator) -> np.ndarray:
    """Zipf-like weights over a random ranking, flattened by an offset so the tail still shows up."""
    ranks = rng.permutation(count)
    weights = (ranks + config.popularity_offset) ** -config.popularity_exponent
    return weights / weights.sum()


def _features(users: Population, ads: Population, user_idx: np.ndarray, ad_idx: np.ndarray) -> pd.DataFrame:
    columns = {}
    for spec in SCHEMA.fields:
        population, index = (users, user_idx) if spec.side == "user" else (ads, ad_idx)
        columns[spec.name] = population.attributes[spec.name][index].astype(str).astype(object)
    return pd.DataFrame(columns)


def _shared_score(users, ads, user_idx, ad_idx, effects) -> np.ndarray:
    score = np.einsum("nd,nd->n", users.shared_vectors[user_idx], ads.shared_vectors[ad_idx])
    for name in ("user_segment", "device", "age_band"):
        score += _lookup(effects[name], users.attributes[name][user_idx])
    for name in ("category", "creative_type"):
        score += _lookup(effects[name], ads.attributes[name][ad_idx])
    pairs = zip(users.attributes["user_segment"][user_idx], ads.attributes["category"][ad_idx])
    score += np.fromiter((effects["segment_x_category"][p] for p in pairs), dtype=np.float64, count=len(user_idx))
    return score


def _lookup(table: dict, keys: np.ndarray) -> np.ndarray:
    return pd.Series(keys).map(table).to_numpy(dtype=np.float64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _calibrated_bias(logit: np.ndarray, rate: float) -> float:
    """Bisection for the bias that makes the mean probability equal `rate`."""
    low, high = -30.0, 30.0
    for _ in range(60):
        mid = (low + high) / 2
        if _sigmoid(logit + mid).mean() < rate:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def split_rows(rows: int, config: DataConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each split's row indices, ascending (the split files keep generation order)."""
    order = rng.permutation(rows)
    n_valid = int(rows * config.valid_fraction)
    n_test = int(rows * config.test_fraction)
    bounds = {"train": (n_valid + n_test, rows), "valid": (0, n_valid), "test": (n_valid, n_valid + n_test)}
    return {split: np.sort(order[start:stop]) for split, (start, stop) in bounds.items()}


def _write_splits(frame: pd.DataFrame, rows: dict[str, np.ndarray], out_dir: Path) -> dict[str, int]:
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split in SPLITS:
        part = frame.iloc[rows[split]].reset_index(drop=True)
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), out_dir / f"{split}.parquet")
        counts[split] = len(part)
    SCHEMA.save(out_dir)
    return counts
