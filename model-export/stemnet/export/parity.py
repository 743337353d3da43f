"""Parity fixtures: scoring requests built from test rows, with the scores PyTorch gives them.

Requests group one user's test rows (1..max_candidates candidates) and are varied on purpose
so the service's contract test covers the awkward paths: unseen ids and values, features
left out (both must land on the OOV row) and requests for a subset of tasks.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pandas as pd

from stemnet.raw_data.schema import MISSING_VALUE, Schema
from stemnet.encoded_data.vocab import Vocabulary


def build_requests(test: pd.DataFrame, schema: Schema, count: int, max_candidates: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    groups = [rows for _, rows in test.groupby(schema.user_id_field, sort=True)]
    order = rng.permutation(len(groups))
    requests = []
    while len(requests) < count:
        rows = groups[order[len(requests) % len(groups)]]
        size = int(rng.integers(1, max_candidates + 1))
        picked = rows.iloc[rng.permutation(len(rows))[:size]]
        requests.append(_vary(_request(picked, schema, len(requests)), schema, len(requests), rng))
    return requests


def _request(rows: pd.DataFrame, schema: Schema, number: int) -> dict:
    """The rows' user and items as one request; context fields (one value per request) from the first row."""
    first = rows.iloc[0]
    user_fields = [f.name for f in schema.fields if f.side == "user" and f.name != schema.user_id_field]
    item_fields = [f.name for f in schema.fields if f.side == "item" and f.name != schema.item_id_field]
    context_fields = [f.name for f in schema.fields if f.side == "context"]
    request = {
        "requestId": f"parity-{number}",
        "userId": str(first[schema.user_id_field]),
        "userFeatures": _present(first, user_fields),
        "candidates": [
            {"itemId": str(row[schema.item_id_field]), "features": _present(row, item_fields)}
            for _, row in rows.iterrows()
        ],
    }
    if context_fields:
        request["contextFeatures"] = _present(first, context_fields)
    return request


def _present(row: pd.Series, names: list[str]) -> dict[str, str]:
    """The row's values of `names` as strings; a missing value is left out, as a client leaves it out."""
    return {name: str(row[name]) for name in names if row[name] is not None and row[name] == row[name]}


def _vary(request: dict, schema: Schema, number: int, rng: np.random.Generator) -> dict:
    """Every few requests, one deliberate deviation from clean training-like input."""
    candidates = request["candidates"]
    if number % 5 == 1:
        candidates[0]["itemId"] = f"a_unseen_{number}"
    if number % 5 == 2 and candidates[-1]["features"]:
        name = _pick(rng, list(candidates[-1]["features"]))
        candidates[-1]["features"][name] = f"{name}_new"
    if number % 7 == 3 and request["userFeatures"]:
        del request["userFeatures"][_pick(rng, list(request["userFeatures"]))]
    if number % 7 == 5 and candidates[0]["features"]:
        del candidates[0]["features"][_pick(rng, list(candidates[0]["features"]))]
    if number % 13 == 6:
        request["userId"] = f"u_unseen_{number}"
    if number % 4 == 3:
        size = int(rng.integers(1, len(schema.tasks)))
        chosen = set(rng.choice(schema.tasks, size=size, replace=False))
        request["tasks"] = [t for t in schema.tasks if t in chosen]
    return request


def _pick(rng: np.random.Generator, names: list[str]) -> str:
    return names[int(rng.integers(len(names)))]


def candidate_values(request: dict, schema: Schema) -> list[dict[str, Optional[str]]]:
    """Each candidate's value per field as the service resolves it: None where it is missing, or MISSING_VALUE when
    the data set makes missing a category of its own (the bundle's missingValue, which the service substitutes)."""
    sides = {"user": {**request.get("userFeatures", {}), schema.user_id_field: request.get("userId")},
             "context": request.get("contextFeatures", {})}
    absent = MISSING_VALUE if schema.missing_values == "category" else None
    rows = []
    for candidate in request["candidates"]:
        sides["item"] = {**candidate.get("features", {}), schema.item_id_field: candidate.get("itemId")}
        rows.append({f.name: _or(absent, sides[f.side].get(f.name)) for f in schema.fields})
    return rows


def _or(absent: Optional[str], value: Optional[str]) -> Optional[str]:
    return absent if value is None else value


def encode_requests(requests: list[dict], schema: Schema, vocabs: dict[str, Vocabulary]) -> np.ndarray:
    """[candidates, F] row indices of every candidate of every request, in request order."""
    rows = pd.DataFrame([values for r in requests for values in candidate_values(r, schema)], columns=schema.field_names)
    return np.stack([vocabs[name].encode(rows[name]) for name in schema.field_names], axis=1)


def fixture_lines(requests: list[dict], probs: np.ndarray, tasks: list[str]) -> list[dict[str, Any]]:
    """One {"request", "expected"} object per request; `probs` follows encode_requests' order."""
    lines, start = [], 0
    for request in requests:
        wanted = request.get("tasks", tasks)
        block = probs[start : start + len(request["candidates"])]
        start += len(request["candidates"])
        expected = [{t: float(row[tasks.index(t)]) for t in wanted} for row in block]
        lines.append({"request": request, "expected": expected})
    return lines
