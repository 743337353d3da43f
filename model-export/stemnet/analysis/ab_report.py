"""Offline A/B analysis: the service's exposure log joined with labels, compared per arm of the model layer.

Exposure records are the JSON lines the service writes (service/README.md, "Exposure log"); labels are a Parquet
or CSV file with `requestId`, `itemId` and one 0/1 column per task. Confidence intervals are percentile bootstrap
intervals that resample *units* (`unitId`, the user the experiment assigned), each arm independently: arms are
disjoint sets of users and a user's impressions share the user's tastes, so resampling requests or impressions
would count one user's many requests as independent evidence and give intervals too narrow. Shadow lines (a
candidate model scoring the same requests on the side; see shadow_report.py) are not traffic of any arm and are
skipped.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import yaml

from stemnet.raw_data.schema import DataError

# Same clipping as stemnet.evaluate.logloss (not imported: that module pulls in torch, this one stays light).
LOGLOSS_EPS = 1e-7
CI_LEVEL = 0.95
SRM_ALPHA = 0.001
LABEL_KEYS = ("requestId", "itemId")
EXPOSURE_KEYS = ("requestId", "unitId", "assignments", "items")


@dataclass(frozen=True)
class Impressions:
    """One row per labelled impression, with the arm that scored it and the request it belongs to."""

    frame: pd.DataFrame  # columns: requestId, itemId, unitId, arm, score_<task>, label_<task>
    tasks: list[str]
    dropped_forced_requests: int
    dropped_unassigned_requests: int
    unlabelled_impressions: int


def exposure_records(directory: Path) -> Iterator[tuple[str, dict]]:
    """Every line of every `*.jsonl` in `directory` as (where, record), `where` being "file:line" for messages; a
    line that is not an exposure record (no requestId, unitId, assignments and items) is refused."""
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise DataError(f"{directory}: no *.jsonl exposure files")
    for file in files:
        with file.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    record = json.loads(line)
                    missing = [key for key in EXPOSURE_KEYS if key not in record]
                except (json.JSONDecodeError, TypeError) as error:
                    raise DataError(f"{file}:{number}: not an exposure record ({error})") from error
                if missing:
                    raise DataError(f"{file}:{number}: not an exposure record (no {', '.join(missing)})")
                yield f"{file}:{number}", record


def is_shadow(record: dict) -> bool:
    """Shadow lines score a request on the side; files written before shadows existed have no `role`."""
    return record.get("role", "served") == "shadow"


def impression_rows(record: dict, score_prefix: str = "score_", **columns: object) -> list[dict]:
    """One row per item of an exposure record: requestId, itemId, unitId, `columns`, <score_prefix><task>."""
    return [{"requestId": record["requestId"], "itemId": item["itemId"], "unitId": record["unitId"], **columns,
             **{f"{score_prefix}{task}": score for task, score in item["scores"].items()}}
            for item in record["items"]]


def load_exposures(directory: Path) -> tuple[pd.DataFrame, int, int]:
    """Every served record of `directory` as one row per (request, item) of the model layer; shadow lines are not
    the served traffic and are skipped; forced assignments and requests that named their model (no model-layer
    assignment) are dropped and counted."""
    rows, forced, unassigned = [], 0, 0
    for _, record in exposure_records(directory):
        if is_shadow(record):
            continue
        assignments = record["assignments"]
        if any(assignment.get("forced") for assignment in assignments):
            forced += 1
            continue
        # The model layer is the one whose assignment names the model that scored.
        model_layer = [assignment for assignment in assignments if "model" in assignment]
        if not model_layer:
            unassigned += 1
            continue
        rows += impression_rows(record, arm=model_layer[0]["arm"])
    if not rows:
        raise DataError(f"{directory}: no exposure of the model layer left after dropping {forced} forced and "
                        f"{unassigned} unassigned requests")
    return impressions_frame(rows, directory), forced, unassigned


def impressions_frame(rows: list[dict], directory: Path) -> pd.DataFrame:
    """The rows as a frame, refused when a (requestId, itemId) repeats: the label join would be ambiguous."""
    frame = pd.DataFrame(rows)
    duplicated = frame.duplicated(list(LABEL_KEYS))
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise DataError(f"{directory}: (requestId, itemId) = ({first.requestId}, {first.itemId}) is exposed twice; "
                        "the label join would be ambiguous")
    return frame


def load_labels(path: Path, tasks: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"{path}: labels file not found")
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype={k: str for k in LABEL_KEYS})
    for column in (*LABEL_KEYS, *tasks):
        if column not in frame.columns:
            raise DataError(f"{path}: missing column '{column}' (has {', '.join(map(str, frame.columns))})")
    for task in tasks:
        if not frame[task].isin([0, 1]).all():
            raise DataError(f"{path}: column '{task}' must hold 0/1 labels")
    if frame.duplicated(list(LABEL_KEYS)).any():
        raise DataError(f"{path}: duplicate (requestId, itemId) rows")
    frame = frame[[*LABEL_KEYS, *tasks]].astype({key: str for key in LABEL_KEYS})
    return frame.rename(columns={task: f"label_{task}" for task in tasks})


def join(exposures_dir: Path, labels_path: Path) -> Impressions:
    exposures, forced, unassigned = load_exposures(exposures_dir)
    tasks = [column.removeprefix("score_") for column in exposures.columns if column.startswith("score_")]
    joined = join_labels(exposures, tasks, ["score_"], exposures_dir, labels_path)
    return Impressions(joined, tasks, forced, unassigned, len(exposures) - len(joined))


def join_labels(exposures: pd.DataFrame, tasks: list[str], score_prefixes: list[str], exposures_dir: Path,
                labels_path: Path) -> pd.DataFrame:
    """Exposures (one row per requestId, itemId) joined with their labels as label_<task>; every score column
    <prefix><task> must be filled."""
    joined = exposures.merge(load_labels(labels_path, tasks), on=list(LABEL_KEYS), how="inner")
    if joined.empty:
        raise DataError(f"no (requestId, itemId) of the exposures in {exposures_dir} is in the labels {labels_path}")
    score_columns = [f"{prefix}{task}" for prefix in score_prefixes for task in tasks]
    if joined.reindex(columns=score_columns).isna().any().any():
        raise DataError(f"{exposures_dir}: some exposures lack a score for one of the tasks {tasks}")
    return joined


# ---- metrics on bootstrap weights -------------------------------------------------------------------------------
# A bootstrap draw resamples units with replacement; an impression then counts as often as its unit was drawn.
# Every metric below takes a (draws, impressions) weight matrix, so the observed value is the draw of all ones.


def weighted_auc(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC per row of `weights`, ties counted as half; NaN where a draw lacks a class."""
    order = np.argsort(scores, kind="stable")
    sorted_scores, sorted_labels, sorted_weights = scores[order], labels[order], weights[:, order]
    # Equal scores form one tie group; reduceat sums each group's weights.
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    positives = np.add.reduceat(sorted_weights * sorted_labels, starts, axis=1)
    negatives = np.add.reduceat(sorted_weights * (1 - sorted_labels), starts, axis=1)
    negatives_below = np.cumsum(negatives, axis=1) - negatives
    pairs = positives.sum(axis=1) * negatives.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, (positives * (negatives_below + 0.5 * negatives)).sum(axis=1) / pairs, np.nan)


def weighted_logloss(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    p = np.clip(scores, LOGLOSS_EPS, 1 - LOGLOSS_EPS)
    losses = -(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    return (weights @ losses) / weights.sum(axis=1)


def weighted_calibration(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mean predicted probability / observed rate: 1 is calibrated, above 1 over-predicts."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights @ scores) / (weights @ labels)


METRICS = {"auc": weighted_auc, "logloss": weighted_logloss, "calibration": weighted_calibration}


def bootstrap_weights(unit_codes: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Row 0: every impression once (the observed value); rows 1..draws: resampled units."""
    units = int(unit_codes.max()) + 1
    counts = np.stack([np.bincount(rng.integers(0, units, units), minlength=units) for _ in range(draws)])
    return np.vstack([np.ones(len(unit_codes)), counts[:, unit_codes]]).astype(np.float64)


def interval(values: np.ndarray) -> list[float]:
    tail = (1 - CI_LEVEL) / 2 * 100
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [math.nan, math.nan]
    return [float(np.percentile(finite, tail)), float(np.percentile(finite, 100 - tail))]


def arm_draws(frame: pd.DataFrame, tasks: list[str], draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Metric name ('follow.auc', ..., 'mean_auc') to its values: [observed, draw 1, ..., draw n]."""
    return metric_draws(frame, tasks, unit_weights(frame, draws, rng))


def unit_weights(frame: pd.DataFrame, draws: int, rng: np.random.Generator) -> np.ndarray:
    return bootstrap_weights(pd.factorize(frame["unitId"])[0], draws, rng)


def metric_draws(frame: pd.DataFrame, tasks: list[str], weights: np.ndarray,
                 score_prefix: str = "score_") -> dict[str, np.ndarray]:
    """Every metric of the scores <score_prefix><task> on the given bootstrap weights (rows: draws)."""
    values = {}
    for task in tasks:
        labels = frame[f"label_{task}"].to_numpy(np.float64)
        scores = frame[f"{score_prefix}{task}"].to_numpy(np.float64)
        for name, metric in METRICS.items():
            values[f"{task}.{name}"] = metric(labels, scores, weights)
    values["mean_auc"] = np.mean([values[f"{task}.auc"] for task in tasks], axis=0)
    return values


def summaries(draws: dict[str, np.ndarray]) -> dict[str, object]:
    return {name: summary(values) for name, values in draws.items()}


def difference_summaries(minuend: dict[str, np.ndarray], subtrahend: dict[str, np.ndarray]) -> dict[str, object]:
    """Per metric, the summary of the draw-by-draw difference; its interval is as paired as the draws are (the same
    bootstrap weights on both sides, or independent ones)."""
    with np.errstate(invalid="ignore"):  # NaN draws stay NaN in the difference; summary counts them
        return {name: summary(minuend[name] - subtrahend[name]) for name in minuend}


def summary(values: np.ndarray) -> dict[str, object]:
    """The observed value and the interval of the draws; draws where the metric is undefined (an AUC of a resample
    without positives, common for rare tasks on few requests) are left out and counted."""
    return {"value": float(values[0]), "ci95": interval(values[1:]), "undefined_draws": int(np.isnan(values[1:]).sum())}


# ---- sample-ratio mismatch ----------------------------------------------------------------------------------------


def chi_square_sf(statistic: float, dof: int) -> float:
    """P(X >= statistic) for X ~ chi-square(dof): the regularized upper incomplete gamma Q(dof/2, statistic/2),
    by its power series below a + 1 and its Lentz continued fraction above (Numerical Recipes 6.2); no scipy."""
    a, x = dof / 2, statistic / 2
    if x <= 0:
        return 1.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1 / a
        denominator = a
        while abs(term) > abs(total) * 1e-15:
            denominator += 1
            term *= x / denominator
            total += term
        return max(0.0, 1 - total * math.exp(log_prefix))
    tiny = 1e-300
    b, c, d = x + 1 - a, 1 / tiny, 1 / (x + 1 - a)
    fraction = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        fraction *= step
        if abs(step - 1) < 1e-15:
            break
    return math.exp(log_prefix) * fraction


def sample_ratio_test(counts: dict[str, int], shares: dict[str, float]) -> dict[str, object]:
    """Pearson chi-square of request counts per arm against the configured shares (dof = arms - 1)."""
    unknown = set(counts) - set(shares)
    if unknown:
        raise DataError(f"arms {sorted(unknown)} have exposures but no expected share (shares: {shares})")
    total_share = sum(shares.values())
    if not math.isclose(total_share, 1.0, abs_tol=1e-9):
        raise DataError(f"expected shares must sum to 1, got {total_share} ({shares})")
    total = sum(counts.values())
    statistic = sum((counts.get(arm, 0) - total * share) ** 2 / (total * share) for arm, share in shares.items())
    p_value = chi_square_sf(statistic, len(shares) - 1)
    return {"counts": {arm: counts.get(arm, 0) for arm in shares}, "expected_shares": shares,
            "chi2": statistic, "dof": len(shares) - 1, "p_value": p_value, "alpha": SRM_ALPHA,
            "mismatch": p_value < SRM_ALPHA}


def parse_shares(text: str) -> dict[str, float]:
    shares = {}
    for part in text.split(","):
        arm, separator, value = part.partition("=")
        try:
            shares[arm.strip()] = float(value)
        except ValueError:
            separator = ""
        if not separator or not arm.strip():
            raise DataError(f"--expected-shares: '{part}' is not arm=share (e.g. control=0.5,treatment=0.5)")
    return shares


def model_layer(path: Path) -> dict:
    """The layer of a service experiment file whose arms name models (the service allows exactly one)."""
    layers = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["layers"]
    model_layers = [layer for layer in layers if any("model" in arm for arm in layer["arms"])]
    if len(model_layers) != 1:
        raise DataError(f"{path}: expected exactly one layer whose arms name models, found {len(model_layers)}")
    return model_layers[0]


def experiment_shares(path: Path) -> dict[str, float]:
    """Shares of the model layer's arms in a service experiment file: bucket ranges or percentages, the layer's
    `default` arm taking the buckets no arm covers (the service's rules; the service has checked the file)."""
    try:
        layer = model_layer(path)
        buckets = int(layer["buckets"])
        counts = {}
        for arm in layer["arms"]:
            if "percent" in arm:
                counts[arm["name"]] = float(arm["percent"]) * buckets / 100
            else:
                ranges = arm["ranges"] if isinstance(arm["ranges"], list) else [arm["ranges"]]
                counts[arm["name"]] = sum(_range_size(text) for text in ranges)
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as error:
        raise DataError(f"{path}: cannot read the model layer's shares ({error!r})") from error
    if "default" in layer:
        counts[layer["default"]] = counts.get(layer["default"], 0) + buckets - sum(counts.values())
    return {arm: count / buckets for arm, count in counts.items()}


def _range_size(text: str) -> int:
    low, _, high = str(text).partition("-")
    return int(high or low) - int(low) + 1


# ---- the report ---------------------------------------------------------------------------------------------------


def ab_report(exposures_dir: Path, labels_path: Path, shares: dict[str, float] | None,
              bootstrap: int = 1000, seed: int = 0) -> dict[str, object]:
    impressions = join(exposures_dir, labels_path)
    frame, tasks = impressions.frame, impressions.tasks
    rng = np.random.default_rng(seed)
    arms = sorted(frame["arm"].unique())
    per_arm_draws = {arm: arm_draws(frame[frame["arm"] == arm], tasks, bootstrap, rng) for arm in arms}
    report: dict[str, object] = {
        "tasks": tasks, "bootstrap": bootstrap, "seed": seed, "ci_level": CI_LEVEL,
        "dropped": {"forced_requests": impressions.dropped_forced_requests,
                    "unassigned_requests": impressions.dropped_unassigned_requests,
                    "unlabelled_impressions": impressions.unlabelled_impressions},
        "arms": {},
    }
    request_counts = {}
    for arm in arms:
        rows = frame[frame["arm"] == arm]
        request_counts[arm] = int(rows["requestId"].nunique())
        report["arms"][arm] = {"requests": request_counts[arm], "units": int(rows["unitId"].nunique()),
                               "impressions": len(rows),
                               "metrics": summaries(per_arm_draws[arm])}
    # Differences: every later arm minus the first (sorted by name); draws are independent across arms.
    baseline = arms[0]
    report["differences"] = {f"{arm} - {baseline}": difference_summaries(per_arm_draws[arm], per_arm_draws[baseline])
                             for arm in arms[1:]}
    report["srm"] = sample_ratio_test(request_counts, shares) if shares else None
    return report


def format_cell(entry: dict[str, object]) -> str:
    low, high = entry["ci95"]
    return f"{entry['value']:.4f} [{low:.4f}, {high:.4f}]"


def markdown_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|",
            *("| " + " | ".join(row) + " |" for row in rows)]


def format_report(report: dict[str, object]) -> str:
    """Markdown: one table of every metric per arm and difference, then the sample-ratio test."""
    arms, differences = report["arms"], report["differences"]
    columns = [*arms, *differences]
    rows = [["requests", *(str(arms[arm]["requests"]) for arm in arms), *([""] * len(differences))],
            ["units", *(str(arms[arm]["units"]) for arm in arms), *([""] * len(differences))],
            ["impressions", *(str(arms[arm]["impressions"]) for arm in arms), *([""] * len(differences))]]
    for name in next(iter(arms.values()))["metrics"]:
        rows.append([name, *(format_cell(arms[arm]["metrics"][name]) for arm in arms),
                     *(format_cell(differences[difference][name]) for difference in differences)])
    lines = markdown_table(["metric", *columns], rows)
    lines.append("")
    lines.append(f"Values with {report['ci_level']:.0%} bootstrap intervals ({report['bootstrap']} resamples of "
                 f"units, seed {report['seed']}). Dropped: {report['dropped']}.")
    srm = report["srm"]
    if srm:
        verdict = "MISMATCH" if srm["mismatch"] else "ok"
        lines.append(f"Sample-ratio test: requests {srm['counts']} vs shares {srm['expected_shares']}: "
                     f"chi2 = {srm['chi2']:.3f} (dof {srm['dof']}), p = {srm['p_value']:.3g} -> {verdict} "
                     f"at p < {srm['alpha']}")
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, object], markdown: str, out: Path) -> None:
    """report.json (every number) and report.md (`markdown`) under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.md").write_text(markdown)
