#!/usr/bin/env python3
"""End-to-end A/B and shadow test on the service jar, in two phases on the synthetic test set.

A/B: the service splits the users 50/50 between the stem_net and mmoe bundles, logs exposures, and
`python -m stemnet ab-report` must find both arms with traffic, no sample-ratio mismatch, each arm reproducing its
bundle's offline test AUC, and the arms ranked as offline evaluation ranks them wherever the replay can resolve the
offline gap.

Shadow: stem_net serves every request and mmoe scores each on the side (a `shadows` entry at 100%); `python -m
stemnet shadow-report` must pair every served request with its shadow line, each model must reproduce its offline
test AUC, the paired stem_net - mmoe differences must rank as offline evaluation does, and the paired interval of the
mean AUC lead must be narrower than the A/B phase's: the same users on both sides instead of two disjoint halves.

  scripts/ab-e2e.py --models build/ab-models --data build/data/ab --require-advantage [--jar ...] [--work ...]

--models holds the `stem_net` and `mmoe` bundles (model names = directory names), --data the Parquet splits they
were trained on (`test.parquet` is replayed, all of it, in each phase). --require-advantage fails the run unless
STEM-Net's offline mean-AUC lead is one the A/B replay resolves and both the A/B difference's and the shadow's paired
95% intervals lie above 0 (`make test` runs it on the configs/ab.yaml bundles, made for that). Run with the trainer's
Python (pandas, pyarrow); exits non-zero with a message naming the failed check.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd

import e2e_support
from e2e_support import CheckFailed

sys.path.insert(0, str(Path(__file__).resolve().parent / "perf"))
from prometheus_text import samples  # noqa: E402  (the perf scripts' reader of the Prometheus page)

REPO = Path(__file__).resolve().parents[1]
ARMS = {"stem": "stem_net", "mmoe": "mmoe"}  # arm name -> model (bundle directory and served name)
EXPERIMENT = """\
version: ab-e2e-1
layers:
  - name: model
    salt: ab-e2e-1
    buckets: 1000
    arms:
      - {name: stem, model: stem_net, percent: 50}
      - {name: mmoe, model: mmoe, percent: 50}
"""
SERVED, SHADOW = "stem_net", "mmoe"  # the shadow phase: the served model, and the shadow's name and model
SHADOW_EXPERIMENT = f"""\
version: shadow-e2e-1
shadows:
  - name: {SHADOW}
    model: {SHADOW}
    salt: shadow-e2e-1
    buckets: 1000
    percent: 100
"""
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", required=True, type=Path, help="directory with the stem_net and mmoe bundles")
    parser.add_argument("--data", required=True, type=Path, help="directory with test.parquet")
    parser.add_argument("--jar", type=Path, default=REPO / "service/target/stem-net-service.jar")
    parser.add_argument("--work", type=Path, default=REPO / "build/ab-e2e", help="emptied, then filled with the run")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--require-advantage", action="store_true",
                        help="fail unless stem_net's offline mean-AUC lead over mmoe is resolved and confirmed online")
    args = parser.parse_args()
    return e2e_support.run_checks("ab-e2e", run, args)


def run(args: argparse.Namespace) -> None:
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    repository = work / "models"
    for model in ARMS.values():
        shutil.copytree(args.models / model, repository / model)
    manifests = {model: json.loads((repository / model / "manifest.json").read_text()) for model in ARMS.values()}

    test = pd.read_parquet(args.data / "test.parquet")
    requests, labels = build_requests(test, manifests["stem_net"])
    labels.to_parquet(work / "labels.parquet")

    ab_report = ["ab-report", "--experiment", str(work / "ab" / "experiments.yaml")]
    ab = replay_and_report(args, work / "ab", EXPERIMENT, requests, ab_report)
    print(f"ab-e2e: A/B replayed {len(requests)} requests, {len(labels)} impressions")
    check(ab, manifests, len(labels), args.require_advantage)

    shadow_report = ["shadow-report", "--shadow", SHADOW]
    shadow = replay_and_report(args, work / "shadow", SHADOW_EXPERIMENT, requests, shadow_report,
                               shadowed_requests=len(requests))
    print(f"ab-e2e: shadow replayed {len(requests)} requests, {len(labels)} impressions")
    check_shadow(shadow, ab, manifests, len(requests), len(labels), args.require_advantage)


def replay_and_report(args: argparse.Namespace, phase: Path, experiment: str, requests: list[dict],
                      report_command: list[str], shadowed_requests: int = 0) -> dict:
    """Serves the models under `experiment`, replays `requests`, stops the service and runs the report command on
    its exposure log (in `phase`: experiments.yaml, exposures/, service.log, report/); returns report.json. With
    `shadowed_requests`, the service stops only once that many shadow requests are done (scored or shed): shadows
    run after the response, and a stopping service drops the ones still queued."""
    phase.mkdir(parents=True)
    (phase / "experiments.yaml").write_text(experiment)
    with running_service(args.jar, phase.parent / "models", phase / "experiments.yaml", phase / "exposures",
                         phase / "service.log", shadowed_requests) as ports:
        replay(ports.public, requests)
        wait_for_shadows(ports.management, shadowed_requests)
    subprocess.run(
        [sys.executable, "-m", "stemnet", *report_command, "--exposures", str(phase / "exposures"),
         "--labels", str(phase.parent / "labels.parquet"), "--bootstrap", str(args.bootstrap),
         "--out", str(phase / "report")],
        check=True, env={**os.environ, "PYTHONPATH": str(REPO / "model-export")})
    return json.loads((phase / "report" / "report.json").read_text())


@contextmanager
def running_service(jar: Path, repository: Path, experiment: Path, exposures: Path, log_path: Path,
                    shadowed_requests: int) -> Iterator[e2e_support.Ports]:
    """The jar serving `repository` under `experiment`, logging exposures, with room for `shadowed_requests` shadows
    (none: the shadow settings' defaults); yields its ports."""
    options = [f"--stem.models.repository={repository}",
               # Readiness waits for the default model; it serves requests that no A/B arm takes (the shadow phase).
               "--stem.models.default=stem_net",
               f"--stem.experiments.config={experiment}", f"--stem.experiments.exposure-log.dir={exposures}",
               # Every replayed request must get its shadow line, and this replayer keeps the same cores busy: at the
               # default priority (nice 19, SCHED_IDLE) a shadow waits behind it and is shed, as it is meant to be
               # behind served traffic.
               "--stem.shadow.nice=0", "--stem.shadow.sched-idle=false"]
    if shadowed_requests:
        # At the serving priority the one shadow thread can still fall behind a replay that sends the next request
        # as soon as the last is answered (19 of 1086 shed, queue_full, on a loaded 2-core machine): its queue holds
        # the whole replay and its deadline outlasts the wait for it.
        options += [f"--stem.shadow.queue-capacity={shadowed_requests}",
                    f"--stem.shadow.deadline={2 * SHADOWS_DONE_DEADLINE_S}s"]
    with e2e_support.running_service(jar, options, log_path) as ports:
        yield ports


SHADOWS_DONE_DEADLINE_S = 60


def wait_for_shadows(management_port: int, expected: int) -> None:
    """Until `stem_shadow_requests_total` (every shadow and outcome) reaches `expected`; fails after the deadline, and
    when any shadow ended other than scored, naming the outcomes (a shed shadow has no line for the report to pair)."""
    deadline = time.monotonic() + SHADOWS_DONE_DEADLINE_S
    outcomes: dict[str, float] = {}
    while sum(outcomes.values()) < expected:
        if time.monotonic() > deadline:
            raise CheckFailed(f"{sum(outcomes.values()):.0f} of {expected} shadow requests done "
                              f"{SHADOWS_DONE_DEADLINE_S}s after the replay's last response: {outcomes}")
        time.sleep(0.1)  # poll interval; the loop ends when every shadow is done, or at the deadline
        connection = http.client.HTTPConnection("127.0.0.1", management_port, timeout=10)
        connection.request("GET", "/actuator/prometheus")
        scrape = connection.getresponse().read().decode()
        outcomes = {}
        for labels, value in samples(scrape, "stem_shadow_requests_total"):
            outcomes[labels["outcome"]] = outcomes.get(labels["outcome"], 0) + value
    if outcomes.get("scored", 0) != expected:
        raise CheckFailed(f"{expected} shadow requests, each must be scored; the service counts {outcomes}")


def build_requests(test: pd.DataFrame, manifest: dict) -> tuple[list[dict], pd.DataFrame]:
    """One request per user and occurrence: a user's k-th impression of an ad goes to the user's k-th request, so
    itemId (the ad id, which the model scores as a feature) is unique within a request and (requestId, itemId)
    names one test row."""
    user_field, item_field = manifest["userIdField"], manifest["itemIdField"]
    user_features = [f["name"] for f in manifest["fields"] if f["side"] == "user" and f["name"] != user_field]
    item_features = [f["name"] for f in manifest["fields"] if f["side"] == "item" and f["name"] != item_field]
    test = test.assign(occurrence=test.groupby([user_field, item_field]).cumcount())
    test["requestId"] = test[user_field] + "-" + test["occurrence"].astype(str)
    requests = []
    for request_id, rows in test.groupby("requestId", sort=True):
        first = rows.iloc[0]
        requests.append({
            "requestId": request_id, "userId": first[user_field],
            "userFeatures": {name: first[name] for name in user_features},
            "candidates": [{"itemId": row[item_field], "features": {name: row[name] for name in item_features}}
                           for _, row in rows.iterrows()],
        })
    labels = test[["requestId", item_field, *manifest["tasks"]]].rename(columns={item_field: "itemId"})
    return requests, labels


def replay(port: int, requests: list[dict]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for request in requests:
        connection.request("POST", "/v1/score", json.dumps(request), {"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise CheckFailed(f"POST /v1/score {request['requestId']}: {response.status} {body[:300]!r}")


def check(report: dict, manifests: dict[str, dict], impressions: int, require_advantage: bool) -> None:
    arms, srm = report["arms"], report["srm"]
    if set(arms) != set(ARMS) or any(arms[arm]["requests"] == 0 for arm in ARMS):
        raise CheckFailed(f"both arms need traffic, got {({arm: a['requests'] for arm, a in arms.items()})}")
    if sum(arms[arm]["impressions"] for arm in ARMS) != impressions:
        raise CheckFailed(f"{impressions} impressions replayed, the report joined "
                          f"{sum(a['impressions'] for a in arms.values())}: exposures or labels were lost")
    if srm["mismatch"]:
        raise CheckFailed(f"sample-ratio mismatch: {srm['counts']}, p = {srm['p_value']:.3g}")
    for arm, model in ARMS.items():
        check_offline_auc(f"arm {arm} ({model})", arms[arm]["metrics"], manifests[model], report["tasks"])
    offline_gaps = offline_leads(manifests, report["tasks"])
    resolved = check_ranking("stem - mmoe", report["differences"]["stem - mmoe"], offline_gaps)
    if require_advantage and not (offline_gaps["mean_auc"] > 0 and resolved["mean_auc"]):
        raise CheckFailed(f"--require-advantage: offline mean-AUC stem - mmoe {offline_gaps['mean_auc']:+.4f} is not a "
                          "lead this replay resolves; the data or models no longer show STEM-Net's advantage")


def check_shadow(report: dict, ab: dict, manifests: dict[str, dict], requests: int, impressions: int,
                 require_advantage: bool) -> None:
    models = {side: report["models"][side]["model"] for side in ("served", "shadow")}
    if models != {"served": SERVED, "shadow": SHADOW}:
        raise CheckFailed(f"expected {SERVED} served and {SHADOW} shadowed, the report has {models}")
    counts = report["counts"]
    print(f"ab-e2e: shadow counts {counts}")
    if counts["served_requests"] != requests or counts["served_without_shadow"] or counts["shadow_without_served"]:
        raise CheckFailed(f"{requests} requests replayed, every one must have its served and its shadow line; "
                          f"got {counts}")
    if counts["labelled_impressions"] != impressions:
        raise CheckFailed(f"{impressions} impressions replayed, the shadow report joined "
                          f"{counts['labelled_impressions']}: exposures or labels were lost")
    for side, model in models.items():
        check_offline_auc(f"{side} {model}", report["models"][side]["metrics"], manifests[model], report["tasks"])
    # shadow-report's difference is shadow - served, mmoe - stem_net here; the A/B one is stem - mmoe.
    lead = {metric: negated(entry) for metric, entry in report["paired_difference"].items()}
    check_ranking("stem_net - mmoe (paired)", lead, offline_leads(manifests, report["tasks"]))
    paired, unpaired = lead["mean_auc"], ab["differences"]["stem - mmoe"]["mean_auc"]
    widths = {name: entry["ci95"][1] - entry["ci95"][0] for name, entry in (("paired", paired), ("ab", unpaired))}
    print("ab-e2e: mean_auc lead stem_net - mmoe      value   95% interval          width")
    for name, label, entry in (("ab", "A/B, disjoint halves of users", unpaired),
                               ("paired", "shadow, paired on every user", paired)):
        low, high = entry["ci95"]
        print(f"ab-e2e:   {label:<32} {entry['value']:+.4f}  [{low:+.4f}, {high:+.4f}]  {widths[name]:.4f}")
    if require_advantage and not paired["ci95"][0] > 0:
        raise CheckFailed(f"--require-advantage: the shadow's paired mean-AUC lead stem_net - mmoe has the interval "
                          f"[{paired['ci95'][0]:+.4f}, {paired['ci95'][1]:+.4f}], not above 0")
    if not widths["paired"] < widths["ab"]:
        raise CheckFailed(f"the shadow's paired mean-AUC interval ({widths['paired']:.4f} wide) is not narrower than "
                          f"the A/B one ({widths['ab']:.4f}): the pairing does not take the users' variation out")


def negated(entry: dict) -> dict:
    """A difference's summary the other way round (b - a from a - b)."""
    low, high = entry["ci95"]
    return {**entry, "value": -entry["value"], "ci95": [-high, -low]}


def check_offline_auc(label: str, metrics: dict, manifest: dict, tasks: list[str]) -> None:
    """The bundle's offline test AUC must lie in the online interval: the service scores exactly what the bundle
    scored offline, so a broken join, swapped models or wrong features would move it out of the interval."""
    for task in tasks:
        offline = test_auc(manifest, task)
        low, high = metrics[f"{task}.auc"]["ci95"]
        verdict = "ok" if low <= offline <= high else "OUTSIDE"
        print(f"ab-e2e: {label} {task}: offline AUC {offline:.4f}, online 95% CI [{low:.4f}, {high:.4f}] {verdict}")
        if verdict != "ok":
            raise CheckFailed(f"{label}: {task} offline AUC {offline:.4f} is outside the online CI "
                              f"[{low:.4f}, {high:.4f}]")


def offline_leads(manifests: dict[str, dict], tasks: list[str]) -> dict[str, float]:
    """stem_net - mmoe offline, per task AUC and mean AUC."""
    gaps = {f"{task}.auc": test_auc(manifests["stem_net"], task) - test_auc(manifests["mmoe"], task) for task in tasks}
    gaps["mean_auc"] = mean_test_auc(manifests["stem_net"]) - mean_test_auc(manifests["mmoe"])
    return gaps


def check_ranking(label: str, differences: dict, offline_gaps: dict[str, float]) -> dict[str, bool]:
    """The online ranking must agree with the offline one wherever the test has the power to see it: when the
    offline gap is wider than half the online difference's interval, the interval must exclude 0 on its side.
    Narrower gaps are no claim the data can back, and are only printed. Returns which gaps were resolved."""
    resolved = {}
    for metric, offline_gap in offline_gaps.items():
        online = differences[metric]
        low, high = online["ci95"]
        half_width = (high - low) / 2
        resolved[metric] = abs(offline_gap) > half_width
        if not resolved[metric]:
            verdict = f"not resolved (offline gap within the interval's half-width {half_width:.4f})"
        elif (low > 0) if offline_gap > 0 else (high < 0):
            verdict = "agrees"
        else:
            verdict = "DISAGREES"
        print(f"ab-e2e: {metric} {label}: offline {offline_gap:+.4f}, online {online['value']:+.4f} "
              f"[{low:+.4f}, {high:+.4f}] {verdict}")
        if verdict == "DISAGREES":
            raise CheckFailed(f"{metric}: offline {label} {offline_gap:+.4f} is wider than the online interval's "
                              f"half-width, but the online interval [{low:+.4f}, {high:+.4f}] does not exclude 0 on "
                              "its side")
    return resolved


def test_auc(manifest: dict, task: str) -> float:
    return manifest["metrics"]["test"][task]["auc"]


def mean_test_auc(manifest: dict) -> float:
    test = manifest["metrics"]["test"]
    return sum(metrics["auc"] for metrics in test.values()) / len(test)


if __name__ == "__main__":
    sys.exit(main())
