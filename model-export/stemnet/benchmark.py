"""Trains every requested architecture for every seed on one data set at the same budget, and
evaluates them on the test split: per-task metrics, the comparable-subset analysis and gate
weights. `report.py` turns the result into tables and plots.

With more than one candidate setting (`benchmark --grid`), every architecture is trained at
every setting and keeps the one with the best validation AUC (mean over seeds): each model is
compared at its own best setting, chosen without looking at the test split, as the paper's
tuner does."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from stemnet.analysis.comparable import SUBSETS, subset_aucs, subset_of_samples
from stemnet.analysis.gates import average_gate_weights, is_gated
from stemnet.config import Config, ConfigError
from stemnet.raw_data.schema import Schema
from stemnet.evaluate import average_auc, predict, task_metrics
from stemnet.train import resolve_device, train

BASELINE = "single_task"


@dataclass
class Run:
    architecture: str
    seed: int
    test: dict[str, dict[str, float]]  # task -> auc, logloss, gauc, bayes_auc
    train_seconds: float
    best_epoch: int
    valid_auc: float  # mean validation AUC over tasks at the restored (best) epoch
    setting: str  # the candidate setting it was trained with ("" without a grid)
    probs: np.ndarray  # [N, T] test predictions
    gates: Optional[dict[str, dict[str, float]]]  # task -> group -> mean weight


@dataclass
class Benchmark:
    tasks: list[str]
    task_pair: tuple[str, str]
    positive_rates: dict[str, float]  # on the test split
    runs: list[Run]
    # architecture -> task -> subset -> AUC, averaged over seeds; None without a Single-Task run
    comparable: Optional[dict[str, dict[str, dict[str, float]]]]
    subset_sizes: Optional[dict[str, int]]  # samples per comparable subset
    # task -> subset -> AUC of the generator's true probabilities (synthetic data only), so each
    # subset's gap to the Bayes-optimal AUC can be read off
    comparable_bayes: Optional[dict[str, dict[str, float]]] = None
    labels: Optional[np.ndarray] = None  # [N, T] test labels, in the test file's row order
    # With a grid: every (architecture, setting)'s validation and test average AUC over seeds.
    selection: Optional[list["Candidate"]] = None


@dataclass(frozen=True)
class Candidate:
    architecture: str
    setting: str
    valid_auc: float  # mean over seeds
    test_average_auc: float  # mean over seeds
    chosen: bool


def run_benchmark(
    settings: dict[str, Config],
    data_dir: Path,
    architectures: list[str],
    seeds: list[int],
    task_pair: tuple[str, str],
) -> Benchmark:
    """`settings`: the candidate configs by label (one, labelled "", without a grid)."""
    tasks = list(Schema.load(data_dir).tasks)
    missing = [t for t in task_pair if t not in tasks]
    if missing or task_pair[0] == task_pair[1]:
        raise ConfigError(f"--task-pair: expected two different tasks of {tasks}, got {list(task_pair)}")
    runs, selection, labels, true_probs = [], [], None, None
    for architecture in architectures:
        by_setting = {}
        for label, config in settings.items():
            by_setting[label] = []
            for seed in seeds:
                run_config = dataclasses.replace(
                    config,
                    model=dataclasses.replace(config.model, architecture=architecture),
                    train=dataclasses.replace(config.train, seed=seed),
                )
                print(f"== {architecture} seed {seed} {label}".rstrip(), flush=True)
                run, labels, true_probs = _train_and_evaluate(run_config, data_dir, label)
                by_setting[label].append(run)
        # max() keeps the first of equal scores: a setting the model ignores changes nothing.
        best = max(by_setting, key=lambda label: np.mean([r.valid_auc for r in by_setting[label]]))
        runs += by_setting[best]
        selection += [
            Candidate(
                architecture,
                label,
                float(np.mean([r.valid_auc for r in candidate_runs])),
                float(np.mean([average_auc(r.test) for r in candidate_runs])),
                label == best,
            )
            for label, candidate_runs in by_setting.items()
        ]
    rates = {t: float(labels[:, i].mean()) for i, t in enumerate(tasks)}
    comparable, sizes, bayes = (
        _comparable(runs, tasks, task_pair, labels, true_probs) if BASELINE in architectures else (None, None, None)
    )
    return Benchmark(
        tasks=tasks,
        task_pair=task_pair,
        positive_rates=rates,
        runs=runs,
        comparable=comparable,
        subset_sizes=sizes,
        comparable_bayes=bayes,
        labels=labels,
        selection=selection if len(settings) > 1 else None,
    )


def _train_and_evaluate(config: Config, data_dir: Path, setting: str) -> tuple[Run, np.ndarray, Optional[np.ndarray]]:
    """The run, the test labels and the generator's true probabilities where the data has them
    (the same for every run: the test file's row order)."""
    started = time.perf_counter()
    result = train(config, data_dir)
    seconds = time.perf_counter() - started
    device = resolve_device(config.train.device)
    test = result.test
    probs = predict(result.model, test, config.train.eval_batch_size, device)
    users = test.ids[:, result.schema.field_names.index(result.schema.user_id_field)]
    gates = average_gate_weights(result.model, test, config.train.eval_batch_size, device) if is_gated(result.model) else None
    run = Run(
        architecture=config.model.architecture,
        seed=config.train.seed,
        test=task_metrics(result.model.tasks, test, probs, groups=users),
        train_seconds=seconds,
        best_epoch=result.metrics["bestEpoch"],
        valid_auc=average_auc(result.metrics["validation"]),
        setting=setting,
        probs=probs,
        gates=gates,
    )
    return run, test.labels, test.true_probs


def _comparable(
    runs: list[Run], tasks: list[str], pair: tuple[str, str], labels: np.ndarray, true_probs: Optional[np.ndarray]
) -> tuple[dict, dict, Optional[dict]]:
    """Subsets from the first seed's Single-Task predictions; each model's subset AUCs averaged
    over seeds, the subsets' sizes, and the true probabilities' subset AUCs (None without them)."""
    a, b = tasks.index(pair[0]), tasks.index(pair[1])
    baseline = next(r for r in runs if r.architecture == BASELINE)
    subsets = subset_of_samples(baseline.probs[:, a], baseline.probs[:, b])
    per_model: dict[str, list[dict]] = {}
    for run in runs:
        aucs = {tasks[t]: subset_aucs(subsets, labels[:, t], run.probs[:, t]) for t in (a, b)}
        per_model.setdefault(run.architecture, []).append(aucs)
    aucs = {
        arch: {
            task: {name: _mean_of_finite([r[task][name] for r in results]) for name in results[0][task]}
            for task in results[0]
        }
        for arch, results in per_model.items()
    }
    sizes = {name: int((subsets == i).sum()) for i, name in enumerate(SUBSETS)}
    bayes = None if true_probs is None else {tasks[t]: subset_aucs(subsets, labels[:, t], true_probs[:, t]) for t in (a, b)}
    return aucs, sizes, bayes


def _mean_of_finite(values: list[float]) -> float:
    """Mean over the seeds where the AUC is defined; NaN when a subset lacks a class in every seed."""
    finite = [v for v in values if not np.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")
