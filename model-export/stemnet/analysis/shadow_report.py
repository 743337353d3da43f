"""Offline shadow analysis: the served model and a shadow model that scored the same requests on the side,
compared on identical impressions with their labels.

The service writes a served line per request and, when the shadow has scored it, a shadow line with the same
requestId, unitId and items (service/README.md, "Shadow traffic"). Each served line is paired with the shadow line
of its requestId and joined with the labels (as for ab-report: requestId, itemId, one 0/1 column per task). Both
models are measured on the same bootstrap draws of units (`unitId`, the user): the difference shadow - served is
taken draw by draw, so the users a draw happens to pick move both models alike and cancel out of the difference,
which is what makes a paired interval narrower than an A/B comparison of disjoint users.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from stemnet.analysis.ab_report import (
    CI_LEVEL, difference_summaries, exposure_records, format_cell, impression_rows, impressions_frame, is_shadow,
    join_labels, markdown_table, metric_draws, summaries, unit_weights,
)
from stemnet.raw_data.schema import DataError

SERVED, SHADOW = "served_", "shadow_"  # score column prefixes of the two models


@dataclass(frozen=True)
class Line:
    where: str  # file:line, for messages
    record: dict


@dataclass(frozen=True)
class Pairs:
    """Served requests paired with their shadow lines, one row per impression: requestId, itemId, unitId,
    served_<task>, shadow_<task>."""

    frame: pd.DataFrame
    tasks: list[str]
    shadow: str
    served_model: dict[str, object]  # {"model": name, "versions": [...]}
    shadow_model: dict[str, object]
    counts: dict[str, int]


def read_lines(directory: Path) -> tuple[dict[str, Line], dict[str, dict[str, Line]]]:
    """Served lines by requestId, and shadow lines by shadow name and requestId; a requestId twice in either is
    refused (its pairing would be ambiguous)."""
    served: dict[str, Line] = {}
    shadows: dict[str, dict[str, Line]] = {}
    for where, record in exposure_records(directory):
        lines = shadows.setdefault(str(record.get("shadow")), {}) if is_shadow(record) else served
        previous = lines.get(record["requestId"])
        if previous:
            raise DataError(f"{where}: requestId {record['requestId']} was already logged at {previous.where} "
                            f"({'shadow ' + str(record.get('shadow')) if is_shadow(record) else 'served'})")
        lines[record["requestId"]] = Line(where, record)
    if not served:
        raise DataError(f"{directory}: no served lines")
    return served, shadows


def choose_shadow(shadows: dict[str, dict[str, Line]], name: str | None, directory: Path) -> str:
    present = sorted(shadows)
    if not present:
        raise DataError(f'{directory}: no shadow lines (role "shadow"); did the service run a shadow?')
    if name is None:
        if len(present) > 1:
            raise DataError(f"{directory}: shadows {present} are logged; pick one with --shadow")
        return present[0]
    if name not in shadows:
        raise DataError(f"{directory}: no shadow lines of shadow '{name}' (logged: {present})")
    return name


def pair(directory: Path, shadow_name: str | None) -> Pairs:
    served, shadows = read_lines(directory)
    shadow_name = choose_shadow(shadows, shadow_name, directory)
    rows, pairs, orphans = [], [], 0
    for request_id, shadow in shadows[shadow_name].items():
        if request_id not in served:
            orphans += 1
            continue
        served_line = served[request_id]
        check_same_request(served_line, shadow)
        pairs.append((served_line.record, shadow.record))
        for served_row, shadow_row in zip(impression_rows(served_line.record, SERVED),
                                          impression_rows(shadow.record, SHADOW)):
            rows.append({**shadow_row, **served_row})
    if not pairs:
        raise DataError(f"{directory}: no served line has a shadow line of '{shadow_name}' "
                        f"({len(shadows[shadow_name])} shadow lines, {len(served)} served lines)")
    frame = impressions_frame(rows, directory)
    return Pairs(
        frame=frame,
        tasks=[column.removeprefix(SERVED) for column in frame.columns if column.startswith(SERVED)],
        shadow=shadow_name,
        served_model=the_model([served_record for served_record, _ in pairs], "served", directory),
        shadow_model=the_model([shadow_record for _, shadow_record in pairs], f"shadow '{shadow_name}'", directory),
        counts={"served_requests": len(served), "shadowed_requests": len(pairs),
                "served_without_shadow": len(served) - len(pairs), "shadow_without_served": orphans,
                "joined_impressions": len(frame)},
    )


def check_same_request(served: Line, shadow: Line) -> None:
    """A pair compares two models on identical impressions only if the shadow scored the served items in order."""
    served_items = [item["itemId"] for item in served.record["items"]]
    shadow_items = [item["itemId"] for item in shadow.record["items"]]
    if served_items != shadow_items:
        raise DataError(f"{shadow.where}: the shadow line of requestId {shadow.record['requestId']} has items "
                        f"{abbreviated(shadow_items)}, the served line ({served.where}) {abbreviated(served_items)}; "
                        "a shadow must score the served items, in the same order")
    if served.record["unitId"] != shadow.record["unitId"]:
        raise DataError(f"{shadow.where}: the shadow line of requestId {shadow.record['requestId']} has unitId "
                        f"{shadow.record['unitId']}, the served line ({served.where}) {served.record['unitId']}")


def abbreviated(items: list[str], most: int = 5) -> str:
    shown = ", ".join(map(str, items[:most]))
    return f"[{shown}{', ...' if len(items) > most else ''}] ({len(items)} items)"


def the_model(records: list[dict], side: str, directory: Path) -> dict[str, object]:
    """The one model that scored `side` of the pairs: a comparison of mixed models would compare nothing."""
    models = sorted({str(record.get("model")) for record in records})
    if len(models) != 1:
        raise DataError(f"{directory}: the {side} side of the pairs was scored by several models {models}; "
                        "a shadow report compares one served model with one shadow model")
    return {"model": models[0], "versions": sorted({str(record.get("modelVersion")) for record in records})}


def shadow_report(exposures_dir: Path, labels_path: Path, shadow: str | None = None,
                  bootstrap: int = 1000, seed: int = 0) -> dict[str, object]:
    pairs = pair(exposures_dir, shadow)
    tasks = pairs.tasks
    frame = join_labels(pairs.frame, tasks, [SERVED, SHADOW], exposures_dir, labels_path)
    # One set of weights for both models: every draw resamples the same users for each, which is the pairing.
    weights = unit_weights(frame, bootstrap, np.random.default_rng(seed))
    served = metric_draws(frame, tasks, weights, SERVED)
    shadowed = metric_draws(frame, tasks, weights, SHADOW)
    return {
        "shadow": pairs.shadow, "difference": "shadow - served", "tasks": tasks, "bootstrap": bootstrap, "seed": seed,
        "ci_level": CI_LEVEL,
        "counts": {**pairs.counts, "labelled_impressions": len(frame), "units": int(frame["unitId"].nunique())},
        "models": {"served": {**pairs.served_model, "metrics": summaries(served)},
                   "shadow": {**pairs.shadow_model, "metrics": summaries(shadowed)}},
        "paired_difference": difference_summaries(shadowed, served),
    }


def format_report(report: dict[str, object]) -> str:
    """Markdown: the direction of the difference, a table of every metric per model and their paired difference,
    then the counts."""
    served, shadow, difference = report["models"]["served"], report["models"]["shadow"], report["paired_difference"]
    columns = ["metric", f"served: {served['model']}", f"shadow {report['shadow']}: {shadow['model']}",
               f"{shadow['model']} - {served['model']} (paired)"]
    rows = [[name, format_cell(served["metrics"][name]), format_cell(shadow["metrics"][name]),
             format_cell(difference[name])] for name in served["metrics"]]
    counts = report["counts"]
    return "\n".join([
        f"Differences are shadow - served ({shadow['model']} - {served['model']}), each bootstrap draw resampling the "
        "same users for both models.",
        "",
        *markdown_table(columns, rows),
        "",
        f"Values with {report['ci_level']:.0%} bootstrap intervals ({report['bootstrap']} resamples of "
        f"{counts['units']} units, seed {report['seed']}). Served requests {counts['served_requests']}, shadowed "
        f"{counts['shadowed_requests']}, served without a shadow line {counts['served_without_shadow']}, shadow lines "
        f"without a served line {counts['shadow_without_served']}; impressions joined "
        f"{counts['joined_impressions']}, labelled {counts['labelled_impressions']}.",
    ]) + "\n"
