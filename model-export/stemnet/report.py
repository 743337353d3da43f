"""Benchmark tables (Markdown, like the STEM paper's Tables 2-4 and Figure 1) and PNG plots."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from stemnet.analysis.comparable import SUBSETS
from stemnet.analysis.gates import GROUPS
from stemnet.benchmark import BASELINE, Benchmark, Run
from stemnet.evaluate import average_auc

REPORT_FILE = "report.md"
RESULTS_FILE = "results.json"
AUC_PLOT = "auc.png"
COMPARABLE_PLOT = "comparable.png"
BAYES_ROW = "Bayes-optimal (true p)"
PREDICTIONS_FILE = "predictions.npz"


def write_report(bench: Benchmark, out_dir: Path, command: str, save_predictions: bool = False) -> str:
    """Writes report.md, results.json and the plots into `out_dir` (and, if asked, every run's
    test predictions); returns the Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if save_predictions:
        write_predictions(bench, out_dir / PREDICTIONS_FILE)
    text = render(bench, command)
    (out_dir / REPORT_FILE).write_text(text, encoding="utf-8")
    (out_dir / RESULTS_FILE).write_text(json.dumps(_results(bench), indent=2) + "\n", encoding="utf-8")
    _plot_auc(bench, out_dir / AUC_PLOT)
    if bench.comparable:
        _plot_comparable(bench, out_dir / COMPARABLE_PLOT)
    return text


def render(bench: Benchmark, command: str) -> str:
    seeds = sorted({r.seed for r in bench.runs})
    lines = [
        f"Machine: {platform.machine()}, {_cpu_count()} CPU cores, {platform.platform()}; "
        f"date {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"Command: `{command}`",
        f"Seeds: {seeds}; test positive rates: "
        + ", ".join(f"{t} {r:.4f}" for t, r in bench.positive_rates.items()),
        "",
        *_selection_table(bench),
        "### Test AUC (mean ± std over seeds)",
        "",
        *_metric_table(bench, "auc", with_gain=True),
        "",
        "### Test gAUC (grouped by user, weighted by impressions)",
        "",
        *_metric_table(bench, "gauc", with_gain=False),
        "",
        "### Test logloss",
        "",
        *_metric_table(bench, "logloss", with_gain=False),
        "",
    ]
    if bench.comparable:
        lines += _comparable_table(bench) + [""]
    lines += _gate_table(bench) + [""] + _quality_checks(bench)
    return "\n".join(lines) + "\n"


def write_predictions(bench: Benchmark, path: Path) -> None:
    """`labels` [N, T] and one `<architecture>/seed<seed>` array [N, T] per run, float32, in the test
    file's row order; `tasks` names the columns."""
    arrays = {f"{r.architecture}/seed{r.seed}": r.probs.astype(np.float32) for r in bench.runs}
    np.savez_compressed(path, tasks=np.array(bench.tasks), labels=bench.labels, **arrays)


def _by_architecture(bench: Benchmark) -> dict[str, list[Run]]:
    grouped: dict[str, list[Run]] = {}
    for run in bench.runs:
        grouped.setdefault(run.architecture, []).append(run)
    return grouped


def _mean_std(values: list[float]) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _metric_table(bench: Benchmark, metric: str, with_gain: bool) -> list[str]:
    grouped = _by_architecture(bench)
    header = ["Model", *bench.tasks]
    if with_gain:
        header += ["Average", "MTL gain (avg AUC − Single-Task)", "Train s / run"]
    rows = []
    baseline = np.mean([average_auc(r.test) for r in grouped[BASELINE]]) if BASELINE in grouped else None
    for arch, runs in grouped.items():
        name = f"{arch} ({runs[0].setting})" if runs[0].setting else arch
        row = [name] + [_format(*_mean_std([r.test[t][metric] for r in runs])) for t in bench.tasks]
        if with_gain:
            mean_avg, std_avg = _mean_std([average_auc(r.test) for r in runs])
            gain = "—" if baseline is None else f"{mean_avg - baseline:+.4f}"
            row += [_format(mean_avg, std_avg), gain, f"{np.mean([r.train_seconds for r in runs]):.0f}"]
        rows.append(row)
    if metric == "auc" and "bayes_auc" in bench.runs[0].test[bench.tasks[0]]:
        bayes = [bench.runs[0].test[t]["bayes_auc"] for t in bench.tasks]
        rows.append([BAYES_ROW] + [f"{b:.4f}" for b in bayes] + ([f"{np.mean(bayes):.4f}", "", ""] if with_gain else []))
    return _markdown(header, rows)


def _selection_table(bench: Benchmark) -> list[str]:
    """With a grid: which setting each architecture keeps (best mean validation AUC); the test
    column is shown for reading, it played no part in the choice. Every later table is at the
    kept setting."""
    if not bench.selection:
        return []
    rows = [
        [c.architecture, c.setting, f"{c.valid_auc:.4f}", f"{c.test_average_auc:.4f}", "kept" if c.chosen else ""]
        for c in bench.selection
    ]
    header = ["Model", "Setting", "Validation AUC (mean)", "Test average AUC (mean)", ""]
    title = "### Settings tried (each model keeps its best validation AUC; the tables below use it)"
    return [title, "", *_markdown(header, rows), ""]


def _comparable_table(bench: Benchmark) -> list[str]:
    a, b = bench.task_pair
    header = ["Model"] + [f"{task} AUC on {subset}" for subset in SUBSETS for task in (a, b)]
    rows = [
        [arch] + [f"{aucs[task][subset]:.4f}" for subset in SUBSETS for task in (a, b)]
        for arch, aucs in bench.comparable.items()
    ]
    if bench.comparable_bayes:
        bayes = bench.comparable_bayes
        rows.append([BAYES_ROW] + [f"{bayes[task][subset]:.4f}" for subset in SUBSETS for task in (a, b)])
    return [
        f"### Comparable-subset analysis (A = {a}, B = {b}; buckets from Single-Task seed {bench.runs[0].seed})",
        "",
        "Bucket difference d = bucket(B) − bucket(A) of the two Single-Task predictions (10 equal-frequency "
        "buckets): A-overwhelming d ∈ [−9, −4], comparable d ∈ (−4, 6], B-overwhelming d ∈ (6, 9]. "
        "AUC averaged over seeds. Samples per subset: "
        + ", ".join(f"{name} {count}" for name, count in bench.subset_sizes.items())
        + ".",
        "",
        *_markdown(header, rows),
    ]


def _gate_table(bench: Benchmark) -> list[str]:
    header = ["Model", "Task", *[f"weight on {g} experts" for g in GROUPS]]
    rows = []
    for arch, runs in _by_architecture(bench).items():
        if runs[0].gates is None:
            continue
        for task in bench.tasks:
            rows.append([arch, task] + [f"{np.mean([r.gates[task][g] for r in runs]):.3f}" for g in GROUPS])
    return ["### Gate analysis (mean gate weight over the test split and seeds)", "", *_markdown(header, rows)]


def _quality_checks(bench: Benchmark) -> list[str]:
    """The issue's quality bar: STEM-Net's average AUC above MMoE's and PLE's, and its AUC on the
    sparsest task above Single-Task's, each by more than the larger of the two seed spreads."""
    grouped = _by_architecture(bench)
    sparsest = min(bench.positive_rates, key=bench.positive_rates.get)
    checks = [
        ("stem_net", "mmoe", "average", lambda r: average_auc(r.test)),
        ("stem_net", "ple", "average", lambda r: average_auc(r.test)),
        ("stem_net", BASELINE, sparsest, lambda r: r.test[sparsest]["auc"]),
    ]
    lines = ["### Quality bar", ""]
    for ours, theirs, what, value in checks:
        if ours not in grouped or theirs not in grouped:
            continue
        (m1, s1), (m2, s2) = _mean_std([value(r) for r in grouped[ours]]), _mean_std([value(r) for r in grouped[theirs]])
        margin, spread = m1 - m2, max(s1, s2)
        verdict = "PASS" if margin > spread else "FAIL"
        lines.append(f"- {ours} vs {theirs}, {what} AUC: margin {margin:+.4f}, larger seed std {spread:.4f} -> {verdict}")
    return lines


def _format(mean: float, std: float) -> str:
    return "nan" if math.isnan(mean) else f"{mean:.4f} ± {std:.4f}"


def _markdown(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def _results(bench: Benchmark) -> dict:
    return {
        "tasks": bench.tasks,
        "task_pair": list(bench.task_pair),
        "positive_rates": bench.positive_rates,
        "runs": [
            {
                "architecture": r.architecture,
                "seed": r.seed,
                "test": r.test,
                "train_seconds": r.train_seconds,
                "best_epoch": r.best_epoch,
                "valid_auc": r.valid_auc,
                "setting": r.setting,
                "gates": r.gates,
            }
            for r in bench.runs
        ],
        "comparable": bench.comparable,
        "comparable_bayes": bench.comparable_bayes,
        "subset_sizes": bench.subset_sizes,
        "selection": None if bench.selection is None else [dataclasses.asdict(c) for c in bench.selection],
    }


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on a build machine
    import matplotlib.pyplot as plt

    return plt


def _grouped_bars(ax, groups: list[str], series: dict[str, list[float]]) -> None:
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    for i, (name, values) in enumerate(series.items()):
        ax.bar(x + i * width, values, width, label=name)
    ax.set_xticks(x + width * (len(series) - 1) / 2, groups)


def _zoomed(ax, values: list[float]) -> None:
    finite = [v for v in values if not math.isnan(v)]
    low, high = min(finite), max(finite)
    ax.set_ylim(low - 0.1 * (high - low) - 0.005, high + 0.1 * (high - low) + 0.005)


def _plot_auc(bench: Benchmark, path: Path) -> None:
    plt = _pyplot()
    grouped = _by_architecture(bench)
    series = {a: [_mean_std([r.test[t]["auc"] for r in runs])[0] for t in bench.tasks] for a, runs in grouped.items()}
    errors = {a: [_mean_std([r.test[t]["auc"] for r in runs])[1] for t in bench.tasks] for a, runs in grouped.items()}
    fig, axes = plt.subplots(1, len(bench.tasks), figsize=(4 * len(bench.tasks), 4))
    for ax, t in zip(np.atleast_1d(axes), range(len(bench.tasks))):
        names = list(series)
        ax.bar(range(len(names)), [series[n][t] for n in names], yerr=[errors[n][t] for n in names])
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
        ax.set_title(f"{bench.tasks[t]} test AUC")
        _zoomed(ax, [series[n][t] for n in names])
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_comparable(bench: Benchmark, path: Path) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, task in zip(axes, bench.task_pair):
        series = {arch: [aucs[task][s] for s in SUBSETS] for arch, aucs in bench.comparable.items()}
        _grouped_bars(ax, list(SUBSETS), series)
        ax.set_title(f"{task} AUC per subset (A={bench.task_pair[0]}, B={bench.task_pair[1]})")
        _zoomed(ax, [v for values in series.values() for v in values])
    axes[0].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
