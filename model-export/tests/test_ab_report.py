"""ab-report on synthetic exposure logs: arm ranking, sample-ratio test, determinism, bad inputs."""
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stemnet.analysis.ab_report import (
    ab_report, arm_draws, chi_square_sf, experiment_shares, sample_ratio_test, summary, weighted_auc,
)
from stemnet.cli import main
from stemnet.raw_data.schema import DataError

TASKS = ["follow", "pay"]


def write_experiment_logs(directory: Path, requests_per_arm: dict[str, int], seed: int = 0,
                          items_per_request: int = 5, forced_requests: int = 0) -> Path:
    """Exposures of arms 'exact' (scores = true probabilities) and 'noisy' (true logit + N(0, 1.5) noise), and a
    labels file drawn from the true probabilities. Forced requests get perfect scores in arm 'noisy', so counting
    them would change the result."""
    rng = np.random.default_rng(seed)
    exposures, labels = [], []
    arms = [arm for arm, count in requests_per_arm.items() for _ in range(count)]
    arms += ["forced"] * forced_requests
    for number, arm in enumerate(arms):
        request_id = f"r{number}"
        true = {task: rng.beta(1, 6 if task == "follow" else 20, items_per_request) for task in TASKS}
        drawn = {task: (rng.random(items_per_request) < true[task]).astype(int) for task in TASKS}
        items = []
        for index in range(items_per_request):
            scores = {}
            for task in TASKS:
                p = true[task][index]
                if arm == "noisy":
                    logit = math.log(p / (1 - p)) + rng.normal(0, 1.5)
                    p = 1 / (1 + math.exp(-logit))
                elif arm == "forced":
                    p = float(drawn[task][index])
                scores[task] = float(p)
            items.append({"itemId": f"a{index}", "scores": scores})
            labels.append({"requestId": request_id, "itemId": f"a{index}",
                           **{task: int(drawn[task][index]) for task in TASKS}})
        assignment = {"layer": "model", "bucket": 1, "arm": "noisy" if arm == "forced" else arm, "model": arm,
                      "version": "v1"}
        if arm == "forced":
            assignment["forced"] = True
        exposures.append({"time": "2026-11-25T10:00:00.000Z", "requestId": request_id, "unitId": f"u{number}",
                          "configVersion": "t", "model": arm, "modelVersion": "v1",
                          "assignments": [assignment], "items": items})
    (directory / "exposures").mkdir(parents=True)
    # Two files: the report reads every *.jsonl of the directory.
    half = len(exposures) // 2
    for name, part in (("exposures-00000001.jsonl", exposures[:half]), ("exposures-00000002.jsonl", exposures[half:])):
        (directory / "exposures" / name).write_text("".join(json.dumps(record) + "\n" for record in part))
    pd.DataFrame(labels).to_parquet(directory / "labels.parquet")
    return directory


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> Path:
    return write_experiment_logs(tmp_path_factory.mktemp("ab"), {"exact": 1500, "noisy": 1500}, forced_requests=200)


def test_the_true_probabilities_beat_noisy_scores_with_an_interval_excluding_zero(logs):
    report = ab_report(logs / "exposures", logs / "labels.parquet", {"exact": 0.5, "noisy": 0.5}, bootstrap=200)
    difference = report["differences"]["noisy - exact"]
    for metric in ("mean_auc", "follow.auc", "pay.auc"):
        low, high = difference[metric]["ci95"]
        assert high < 0, f"{metric}: noisy - exact should be below 0, got [{low}, {high}]"
    low, high = difference["follow.logloss"]["ci95"]
    assert low > 0, "noisy scores should have the higher logloss"
    exact_calibration = report["arms"]["exact"]["metrics"]["follow.calibration"]
    assert exact_calibration["ci95"][0] < 1 < exact_calibration["ci95"][1]
    assert report["arms"]["exact"]["requests"] == 1500 and report["arms"]["noisy"]["impressions"] == 7500
    assert report["dropped"]["forced_requests"] == 200
    assert report["srm"]["mismatch"] is False


def test_bootstrap_is_deterministic_for_a_seed_and_varies_with_it(logs):
    runs = [ab_report(logs / "exposures", logs / "labels.parquet", None, bootstrap=50, seed=seed) for seed in (3, 3, 4)]
    assert json.dumps(runs[0]) == json.dumps(runs[1])
    assert runs[0]["arms"]["exact"]["metrics"]["follow.auc"]["ci95"] != runs[2]["arms"]["exact"]["metrics"]["follow.auc"]["ci95"]


def test_shadow_lines_leave_the_ab_report_unchanged(logs, tmp_path):
    # Each request also scored by a shadow whose scores are the labels: counted as traffic, it would make both arms
    # look perfect, or (as the same requestId and items again) be refused as exposed twice.
    labels = {(row["requestId"], row["itemId"]): row
              for row in pd.read_parquet(logs / "labels.parquet").to_dict("records")}
    (tmp_path / "exposures").mkdir()
    for file in sorted((logs / "exposures").glob("*.jsonl")):
        served = [json.loads(line) for line in file.read_text().splitlines()]
        shadows = [{**record, "role": "shadow", "shadow": "oracle", "model": "oracle", "servedModel": record["model"],
                    "items": [{"itemId": item["itemId"],
                               "scores": {task: float(labels[record["requestId"], item["itemId"]][task])
                                          for task in TASKS}} for item in record["items"]]}
                   for record in served]
        (tmp_path / "exposures" / file.name).write_text(
            "".join(json.dumps({**record, "role": "served"}) + "\n" for record in served)
            + "".join(json.dumps(record) + "\n" for record in shadows))
    arguments = {"labels_path": logs / "labels.parquet", "shares": {"exact": 0.5, "noisy": 0.5}, "bootstrap": 30}
    assert ab_report(tmp_path / "exposures", **arguments) == ab_report(logs / "exposures", **arguments)


def test_sample_ratio_test_flags_60_40_and_passes_a_balanced_split():
    skewed = sample_ratio_test({"a": 6000, "b": 4000}, {"a": 0.5, "b": 0.5})
    assert skewed["mismatch"] and skewed["chi2"] == pytest.approx(400.0) and skewed["p_value"] < 1e-80
    balanced = sample_ratio_test({"a": 5030, "b": 4970}, {"a": 0.5, "b": 0.5})
    assert not balanced["mismatch"] and balanced["p_value"] == pytest.approx(math.erfc(math.sqrt(0.36 / 2)))


# Critical values at 0.05 from tables, and closed forms: dof 3 is erfc(sqrt(x/2)) + sqrt(2x/pi) exp(-x/2),
# even dof is exp(-x/2) * sum_{k < dof/2} (x/2)^k / k!.
@pytest.mark.parametrize("statistic, dof, expected", [
    (3.841458820694124, 1, 0.05), (5.991464547107979, 2, 0.05), (11.070497693516351, 5, 0.05),
    (0.5, 3, 0.9188914116546758), (30.0, 10, 0.0008566412107753004),
])
def test_chi_square_tail_matches_reference_values(statistic, dof, expected):
    assert chi_square_sf(statistic, dof) == pytest.approx(expected, rel=1e-6)


def test_weighted_auc_with_unit_weights_is_the_rank_auc_and_counts_ties_as_half():
    labels = np.array([0, 1, 0, 1, 1, 0], dtype=float)
    scores = np.array([0.1, 0.4, 0.4, 0.8, 0.2, 0.3])
    # Pairs (positive, negative) ranked right: 0.4>0.1, 0.4>0.3, 0.4=0.4 (half), 0.8>all 3, 0.2>0.1 -> 6.5 of 9.
    assert weighted_auc(labels, scores, np.ones((1, 6)))[0] == pytest.approx(6.5 / 9)
    # Weight 2 on the first impression is the same as that impression twice.
    doubled = weighted_auc(np.r_[labels, 0], np.r_[scores, 0.1], np.ones((1, 7)))[0]
    assert weighted_auc(labels, scores, np.array([[2, 1, 1, 1, 1, 1]], dtype=float))[0] == pytest.approx(doubled)


def test_experiment_file_shares_from_ranges_percentages_and_default(tmp_path):
    experiment = tmp_path / "experiments.yaml"
    experiment.write_text("""
layers:
  - name: model
    salt: s1
    buckets: 1000
    default: control
    arms:
      - {name: control, model: mmoe, ranges: ["0-99", "500-599"]}
      - {name: treatment, model: stem_net, ranges: "200-449"}
  - name: creative
    salt: s2
    buckets: 100
    arms: [{name: a, percent: 100}]
""")
    assert experiment_shares(experiment) == {"control": 0.75, "treatment": 0.25}


def test_cli_writes_the_report_and_reads_shares_from_the_experiment(logs, tmp_path, capsys):
    experiment = tmp_path / "experiments.yaml"
    experiment.write_text("layers:\n  - name: model\n    salt: s\n    buckets: 10\n    arms:\n"
                          "      - {name: exact, model: a, percent: 50}\n      - {name: noisy, model: b, percent: 50}\n")
    code = main(["ab-report", "--exposures", str(logs / "exposures"), "--labels", str(logs / "labels.parquet"),
                 "--experiment", str(experiment), "--bootstrap", "20", "--out", str(tmp_path / "out")])
    assert code == 0
    assert "| mean_auc |" in capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["srm"]["expected_shares"] == {"exact": 0.5, "noisy": 0.5}
    assert (tmp_path / "out" / "report.md").read_text().startswith("# A/B report")


def test_missing_label_column_is_named(logs, tmp_path):
    labels = pd.read_parquet(logs / "labels.parquet").drop(columns=["pay"])
    labels.to_csv(tmp_path / "labels.csv", index=False)
    with pytest.raises(DataError, match=r"labels\.csv: missing column 'pay'"):
        ab_report(logs / "exposures", tmp_path / "labels.csv", None, bootstrap=5)


def test_labels_without_overlap_are_refused(logs, tmp_path):
    labels = pd.read_parquet(logs / "labels.parquet")
    labels["requestId"] = "other-" + labels["requestId"]
    labels.to_parquet(tmp_path / "labels.parquet")
    with pytest.raises(DataError, match="no \\(requestId, itemId\\) of the exposures .* is in the labels"):
        ab_report(logs / "exposures", tmp_path / "labels.parquet", None, bootstrap=5)


def test_empty_exposure_directory_and_broken_lines_are_named(logs, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["ab-report", "--exposures", str(tmp_path / "empty"), "--labels", str(logs / "labels.parquet")]) == 2
    assert "no *.jsonl exposure files" in capsys.readouterr().err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "exposures-00000001.jsonl").write_text('{"requestId": "r1"\n')
    with pytest.raises(DataError, match=r"exposures-00000001\.jsonl:1: not an exposure record"):
        ab_report(tmp_path / "broken", logs / "labels.parquet", None)


def test_exposed_arm_without_an_expected_share_is_refused(logs):
    with pytest.raises(DataError, match=r"arms \['noisy'\] have exposures but no expected share"):
        ab_report(logs / "exposures", logs / "labels.parquet", {"exact": 1.0}, bootstrap=5)


def test_undefined_draws_are_counted_and_left_out_of_the_interval():
    entry = summary(np.array([0.7, np.nan, 0.6, 0.8, np.nan]))
    assert entry["value"] == 0.7 and entry["undefined_draws"] == 2
    assert entry["ci95"][0] >= 0.6 and entry["ci95"][1] <= 0.8


def test_intervals_resample_users_not_their_requests():
    # Two users with 50 requests each: the model ranks every request of u0 perfectly and every request of u1
    # backwards. Which user a draw repeats decides its AUC (1 or 0), so the interval must span nearly [0, 1];
    # resampling the 100 requests as if independent would give a narrow interval around 0.5.
    rows = []
    for unit, positive_score, negative_score in (("u0", 0.9, 0.1), ("u1", 0.1, 0.9)):
        for request in range(50):
            request_id = f"{unit}-r{request}"
            rows.append({"unitId": unit, "requestId": request_id, "label_follow": 1.0, "score_follow": positive_score})
            rows.append({"unitId": unit, "requestId": request_id, "label_follow": 0.0, "score_follow": negative_score})
    draws = arm_draws(pd.DataFrame(rows), ["follow"], 400, np.random.default_rng(0))
    auc = summary(draws["follow.auc"])
    assert auc["value"] == 0.5
    assert auc["ci95"][0] < 0.1 and auc["ci95"][1] > 0.9, auc
