"""shadow-report on synthetic exposure logs: pairing, counts of unpaired lines, the paired interval, bad inputs."""
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stemnet.analysis.ab_report import arm_draws, difference_summaries, weighted_auc
from stemnet.cli import main
from stemnet.raw_data.schema import DataError
from stemnet.analysis.shadow_report import shadow_report

TASKS = ["follow", "pay"]


def logistic(logit: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-logit))


def write_shadow_logs(directory: Path, units: int = 200, requests_per_unit: int = 3, items_per_request: int = 6,
                      seed: int = 0, shadows: tuple[str, ...] = ("candidate",), without_shadow: int = 0,
                      orphan_shadows: int = 0, unlabelled: int = 0) -> pd.DataFrame:
    """Served lines of model 'prod' (true logit + a per-user bias + noise) and, per shadow, shadow lines of model
    '<shadow>-model' that score the same items almost alike (the served score's logit + N(0, 0.3)): the two models'
    quality moves together from user to user. The first `without_shadow` requests get no shadow line, `orphan_shadows`
    shadow lines have no served line, the last `unlabelled` impressions get no label. Served lines of the first
    file carry no `role` (files written before shadows existed); shadow lines follow their served line, the last ones
    in a later file. Returns the truth: one row per labelled impression with unitId and each model's scores."""
    rng = np.random.default_rng(seed)
    served, shadow_lines, truth = [], [], []
    for unit in range(units):
        bias = rng.normal(0, 1.5)  # how well the models rank this user's items
        for request in range(requests_per_unit):
            request_id = f"u{unit}-{request}"
            true = {task: rng.beta(1, 4 if task == "follow" else 10, items_per_request) for task in TASKS}
            labels = {task: (rng.random(items_per_request) < true[task]).astype(int) for task in TASKS}
            prod = {task: logistic(np.log(true[task] / (1 - true[task])) * math.exp(bias / 3)
                                   + rng.normal(0, 1, items_per_request)) for task in TASKS}
            candidates = {name: {task: logistic(np.log(prod[task] / (1 - prod[task]))
                                                + rng.normal(0, 0.3, items_per_request)) for task in TASKS}
                          for name in shadows}
            items = [f"a{rng.integers(1000)}-{index}" for index in range(items_per_request)]
            common = {"time": "2026-11-25T10:00:00.000Z", "requestId": request_id, "unitId": f"u{unit}",
                      "configVersion": "s1", "assignments": []}

            def scored(scores: dict[str, np.ndarray]) -> list[dict]:
                return [{"itemId": item, "scores": {task: float(scores[task][index]) for task in TASKS}}
                        for index, item in enumerate(items)]

            served.append({**common, "role": "served", "model": "prod", "modelVersion": "p1", "items": scored(prod)})
            if len(served) > without_shadow:
                shadow_lines += [{**common, "role": "shadow", "shadow": name, "model": f"{name}-model",
                                  "modelVersion": "c1", "servedModel": "prod", "servedModelVersion": "p1",
                                  "items": scored(candidates[name])} for name in shadows]
            for index, item in enumerate(items):
                truth.append({"requestId": request_id, "itemId": item, "unitId": f"u{unit}",
                              **{f"label_{task}": labels[task][index] for task in TASKS},
                              **{f"prod_{task}": prod[task][index] for task in TASKS},
                              **{f"{name}_{task}": candidates[name][task][index]
                                 for name in shadows for task in TASKS}})
    for orphan in range(orphan_shadows):
        shadow_lines.append({**shadow_lines[orphan], "requestId": f"gone-{orphan}"})
    (directory / "exposures").mkdir(parents=True)
    half = len(served) // 2
    first = [{key: value for key, value in line.items() if key != "role"} for line in served[:half]]
    files = {"exposures-00000001.jsonl": first + shadow_lines[:half // 2],
             "exposures-00000002.jsonl": served[half:] + shadow_lines[half // 2:]}
    for name, lines in files.items():
        (directory / "exposures" / name).write_text("".join(json.dumps(line) + "\n" for line in lines))
    truth = pd.DataFrame(truth)
    labelled = truth.iloc[:len(truth) - unlabelled]
    labelled[["requestId", "itemId", *(f"label_{task}" for task in TASKS)]].rename(
        columns={f"label_{task}": task for task in TASKS}).to_parquet(directory / "labels.parquet")
    return labelled


def test_pairs_each_served_request_with_its_shadow_and_counts_the_unpaired_lines(tmp_path):
    truth = write_shadow_logs(tmp_path, units=40, without_shadow=7, orphan_shadows=3, unlabelled=5)
    report = shadow_report(tmp_path / "exposures", tmp_path / "labels.parquet", bootstrap=20)
    assert report["counts"] == {"served_requests": 120, "shadowed_requests": 113, "served_without_shadow": 7,
                                "shadow_without_served": 3, "joined_impressions": 113 * 6,
                                "labelled_impressions": 113 * 6 - 5, "units": 38}  # u0, u1: no shadow line
    assert report["shadow"] == "candidate" and report["difference"] == "shadow - served"
    assert report["models"]["served"]["model"] == "prod"
    assert report["models"]["shadow"]["model"] == "candidate-model"
    # Each model's observed AUC is that of its own scores on the paired, labelled impressions: a pairing that
    # mixed up requests, items or models would change it.
    paired = truth.iloc[7 * 6:]
    for side, prefix in (("served", "prod"), ("shadow", "candidate")):
        for task in TASKS:
            expected = weighted_auc(paired[f"label_{task}"].to_numpy(float), paired[f"{prefix}_{task}"].to_numpy(),
                                    np.ones((1, len(paired))))[0]
            assert report["models"][side]["metrics"][f"{task}.auc"]["value"] == pytest.approx(expected)
    difference = report["paired_difference"]["mean_auc"]["value"]
    assert difference == pytest.approx(report["models"]["shadow"]["metrics"]["mean_auc"]["value"]
                                       - report["models"]["served"]["metrics"]["mean_auc"]["value"])


def test_paired_interval_is_narrower_than_the_unpaired_one_when_the_models_move_together(tmp_path):
    truth = write_shadow_logs(tmp_path, units=200)
    report = shadow_report(tmp_path / "exposures", tmp_path / "labels.parquet", bootstrap=300)
    # The same impressions with each model on bootstrap draws of its own, as an A/B of the two would have them.
    rng = np.random.default_rng(1)
    independent = {prefix: arm_draws(truth.rename(columns={f"{prefix}_{task}": f"score_{task}" for task in TASKS}),
                                     TASKS, 300, rng)
                   for prefix in ("prod", "candidate")}
    unpaired = difference_summaries(independent["candidate"], independent["prod"])
    for metric in ("mean_auc", "follow.auc", "pay.logloss"):
        paired_low, paired_high = report["paired_difference"][metric]["ci95"]
        unpaired_low, unpaired_high = unpaired[metric]["ci95"]
        assert report["paired_difference"][metric]["value"] == pytest.approx(unpaired[metric]["value"])
        assert paired_high - paired_low < (unpaired_high - unpaired_low) / 3, metric


def test_a_shadow_line_with_other_items_than_its_served_line_is_refused(tmp_path):
    write_shadow_logs(tmp_path, units=5)
    path = tmp_path / "exposures" / "exposures-00000002.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    victim = next(line for line in lines if line["role"] == "shadow")
    victim["items"] = victim["items"][::-1]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(DataError, match=rf"the shadow line of requestId {victim['requestId']} has items .* the served "
                                        r"line .* a shadow must score the served items, in the same order"):
        shadow_report(tmp_path / "exposures", tmp_path / "labels.parquet", bootstrap=5)


def test_the_shadow_is_chosen_by_name_when_several_ran(tmp_path):
    write_shadow_logs(tmp_path, units=10, shadows=("a", "b"))
    exposures, labels = tmp_path / "exposures", tmp_path / "labels.parquet"
    with pytest.raises(DataError, match=r"shadows \['a', 'b'\] are logged; pick one with --shadow"):
        shadow_report(exposures, labels, bootstrap=5)
    with pytest.raises(DataError, match=r"no shadow lines of shadow 'c' \(logged: \['a', 'b'\]\)"):
        shadow_report(exposures, labels, "c", bootstrap=5)
    report = shadow_report(exposures, labels, "b", bootstrap=5)
    assert report["models"]["shadow"]["model"] == "b-model" and report["counts"]["shadowed_requests"] == 30


def test_a_log_without_shadow_lines_is_refused(tmp_path):
    write_shadow_logs(tmp_path, units=5, shadows=())
    with pytest.raises(DataError, match=r'no shadow lines \(role "shadow"\)'):
        shadow_report(tmp_path / "exposures", tmp_path / "labels.parquet", bootstrap=5)


def test_cli_prints_and_writes_the_report_with_the_direction_of_the_difference(tmp_path, capsys):
    write_shadow_logs(tmp_path, units=20)
    code = main(["shadow-report", "--exposures", str(tmp_path / "exposures"), "--labels",
                 str(tmp_path / "labels.parquet"), "--bootstrap", "20", "--out", str(tmp_path / "out")])
    assert code == 0
    out = capsys.readouterr().out
    assert "Differences are shadow - served (candidate-model - prod)" in out
    assert "| mean_auc |" in out and "served without a shadow line 0" in out
    assert json.loads((tmp_path / "out" / "report.json").read_text())["counts"]["shadowed_requests"] == 60
    assert (tmp_path / "out" / "report.md").read_text().startswith("# Shadow report\n\nDifferences are shadow - served")
