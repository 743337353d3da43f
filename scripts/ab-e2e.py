#!/usr/bin/env python3
"""End-to-end A/B test: the service splits the synthetic test set's users 50/50 between the stem_net and mmoe
bundles, logs exposures, and `python -m stemnet ab-report` must find both arms with traffic, no sample-ratio
mismatch, each arm reproducing its bundle's offline test AUC, and the arms ranked as offline evaluation ranks them
wherever the replay can resolve the offline gap.

  scripts/ab-e2e.py --models build/ab-models --data build/data/ab --require-advantage [--jar ...] [--work ...]

--models holds the `stem_net` and `mmoe` bundles (model names = directory names), --data the Parquet splits they
were trained on (`test.parquet` is replayed, all of it). --require-advantage fails the run unless STEM-Net's
offline mean-AUC lead is one the replay resolves and the online difference's 95% interval lies above 0 (`make test`
runs it on the configs/ab.yaml bundles, made for that). Run with the trainer's Python (pandas, pyarrow); exits
non-zero with a message naming the failed check.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

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
READY_DEADLINE_S = 120
STOP_DEADLINE_S = 60


class CheckFailed(Exception):
    pass


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
    started = time.monotonic()
    try:
        run(args)
    except CheckFailed as failure:
        print(f"ab-e2e: FAILED: {failure}", file=sys.stderr)
        return 1
    print(f"ab-e2e: passed in {time.monotonic() - started:.1f}s")
    return 0


def run(args: argparse.Namespace) -> None:
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    repository, exposures = work / "models", work / "exposures"
    for model in ARMS.values():
        shutil.copytree(args.models / model, repository / model)
    (work / "experiments.yaml").write_text(EXPERIMENT)
    manifests = {model: json.loads((repository / model / "manifest.json").read_text()) for model in ARMS.values()}

    test = pd.read_parquet(args.data / "test.parquet")
    requests, labels = build_requests(test, manifests["stem_net"])
    labels.to_parquet(work / "labels.parquet")

    port, management_port = free_ports(2)
    log = (work / "service.log").open("w")
    service = subprocess.Popen(
        ["java", *os.environ.get("JAVA_OPTS", "").split(), "-jar", str(args.jar),
         f"--server.port={port}", f"--management.server.port={management_port}", "--server.address=127.0.0.1",
         "--management.server.address=127.0.0.1", f"--stem.models.repository={repository}",
         # Readiness waits for the default model; the split never uses it (every request goes to an arm).
         "--stem.models.default=stem_net",
         f"--stem.experiments.config={work / 'experiments.yaml'}", f"--stem.experiments.exposure-log.dir={exposures}"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(service, management_port, work / "service.log")
        replay(port, requests)
    finally:
        # SIGTERM is the graceful stop: the exposure queue is written out after the last request.
        service.send_signal(signal.SIGTERM)
        try:
            service.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            service.kill()
            raise CheckFailed(f"the service did not stop within {STOP_DEADLINE_S}s of SIGTERM")
    print(f"ab-e2e: replayed {len(requests)} requests, {len(labels)} impressions")

    report_dir = work / "report"
    subprocess.run(
        [sys.executable, "-m", "stemnet", "ab-report", "--exposures", str(exposures),
         "--labels", str(work / "labels.parquet"), "--experiment", str(work / "experiments.yaml"),
         "--bootstrap", str(args.bootstrap), "--out", str(report_dir)],
        check=True, env={**os.environ, "PYTHONPATH": str(REPO / "model-export")})
    check(json.loads((report_dir / "report.json").read_text()), manifests, len(labels), args.require_advantage)


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


def free_ports(count: int) -> list[int]:
    """Ports the OS hands out as free; the sockets stay open until all are picked so the ports differ."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def wait_ready(service: subprocess.Popen, management_port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_DEADLINE_S
    last_answer = "no answer"
    while time.monotonic() < deadline:
        if service.poll() is not None:
            raise CheckFailed(f"the service exited with {service.returncode}; see {log}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", management_port, timeout=2)
            connection.request("GET", "/actuator/health/readiness")
            response = connection.getresponse()
            if response.status == 200:
                return
            last_answer = f"{response.status} {response.read()[:300]!r}"
        except OSError as error:
            last_answer = str(error)  # not listening yet
        time.sleep(0.2)  # poll interval, not a synchronisation: the loop ends on readiness or the deadline
    raise CheckFailed(f"the service was not ready within {READY_DEADLINE_S}s (readiness: {last_answer}); see {log}")


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
    # Each arm must reproduce its bundle's offline test AUC: the service scores exactly what the bundle scored
    # offline, so a broken join, swapped arms of unequal models or wrong features would move it out of the interval.
    for arm, model in ARMS.items():
        for task in report["tasks"]:
            offline = manifests[model]["metrics"]["test"][task]["auc"]
            low, high = arms[arm]["metrics"][f"{task}.auc"]["ci95"]
            verdict = "ok" if low <= offline <= high else "OUTSIDE"
            print(f"ab-e2e: arm {arm} ({model}) {task}: offline AUC {offline:.4f}, online 95% CI "
                  f"[{low:.4f}, {high:.4f}] {verdict}")
            if verdict != "ok":
                raise CheckFailed(f"arm {arm}: {task} offline AUC {offline:.4f} is outside the online CI "
                                  f"[{low:.4f}, {high:.4f}]")
    # The arms' ranking must agree with the offline ranking wherever the test has the power to see it: when the
    # offline gap is wider than half the online difference's interval, the interval must exclude 0 on its side.
    # Narrower gaps are no claim the data can back, and are only printed.
    differences = report["differences"]["stem - mmoe"]
    offline_gaps = {f"{task}.auc": test_auc(manifests["stem_net"], task) - test_auc(manifests["mmoe"], task)
                    for task in report["tasks"]}
    offline_gaps["mean_auc"] = mean_test_auc(manifests["stem_net"]) - mean_test_auc(manifests["mmoe"])
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
        print(f"ab-e2e: {metric} stem - mmoe: offline {offline_gap:+.4f}, online {online['value']:+.4f} "
              f"[{low:+.4f}, {high:+.4f}] {verdict}")
        if verdict == "DISAGREES":
            raise CheckFailed(f"{metric}: offline stem - mmoe {offline_gap:+.4f} is wider than the online interval's "
                              f"half-width, but the online interval [{low:+.4f}, {high:+.4f}] does not exclude 0 on "
                              "its side")
    if require_advantage and not (offline_gaps["mean_auc"] > 0 and resolved["mean_auc"]):
        raise CheckFailed(f"--require-advantage: offline mean-AUC stem - mmoe {offline_gaps['mean_auc']:+.4f} is not a "
                          "lead this replay resolves; the data or models no longer show STEM-Net's advantage")


def test_auc(manifest: dict, task: str) -> float:
    return manifest["metrics"]["test"][task]["auc"]


def mean_test_auc(manifest: dict) -> float:
    test = manifest["metrics"]["test"]
    return sum(metrics["auc"] for metrics in test.values()) / len(test)


if __name__ == "__main__":
    sys.exit(main())
