#!/usr/bin/env python3
"""Offered load at 1x, 2x and 4x the service's saturation, with hey over loopback; the latency budget per level.

Finds saturation first (closed-loop hey at a concurrency that keeps every scoring slot busy, 200s per second), then
for each level offers that many times the saturation rate, open-loop as far as hey allows: workers rate-limited
(`hey -q`), so a slow answer hardly lowers the offered rate. hey's workers all tick in step (each sends at 0, 1/q,
2/q, ... seconds), so one process sends its workers' requests in bursts; the workers are spread over several hey
processes started 1/(q x processes) apart, which turns one burst per tick into many small ones. Prints per level the status counts (and
requests that got no HTTP answer at all) and the p50/p99 latency of accepted (200) and refused (any other status)
requests, as the client saw them. Loopback only; every run is a fixed number of requests (`hey -n`), each bounded by a
10 s client timeout.

    python3 scripts/perf/overload.py --bundle build/bundles/stem-net --candidates 200 --seconds 20

needs a service on --url (`scripts/with-service.sh` starts one; `make overload` does both) and `hey` on the PATH.
"""
import argparse
import csv
import io
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# A few bodies, one per hey process in turn, give the service a few different users and ad sets.
BODIES = 4
# Requests a second per worker: a worker waits for each answer before its next tick, so an answer slower than 1/rate
# skips a tick; refusals take milliseconds, and accepted requests mostly less than 100 ms.
PER_WORKER_RATE = 10.0
# hey processes per level, started 1/(PER_WORKER_RATE x PROCESSES) apart.
PROCESSES = 8


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, required=True, help="bundle whose vocabularies the requests use")
    parser.add_argument("--url", default="http://127.0.0.1:8080/v1/score")
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20, help="per level")
    parser.add_argument("--levels", default="1,2,4", help="multiples of the saturation rate")
    parser.add_argument("--saturation-concurrency", type=int, default=16,
                        help="closed-loop clients for finding saturation (>= stem.scoring.max-concurrent)")
    parser.add_argument("--saturation", type=float, help="skip the measurement: saturation in requests/s")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        parser.error("--url must be a loopback address")

    with tempfile.TemporaryDirectory() as scratch:
        bodies = write_bodies(args.bundle, args.candidates, Path(scratch), random.Random(args.seed))
        saturation = args.saturation or measure_saturation(args.url, bodies, args.saturation_concurrency,
                                                           args.seconds)
        print(f"saturation: {saturation:.1f} requests/s ({args.candidates} candidates per request)", flush=True)
        print()
        print("| level | offered req/s | sent | 200 | 429 | 504 | other status | no answer | accepted p50 / p99 ms "
              "| refused p50 / p99 ms |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for level in (float(x) for x in args.levels.split(",")):
            rows = offer(args.url, bodies, level * saturation, args.seconds)
            print(summary_row(level, level * saturation, rows), flush=True)
    return 0


def write_bodies(bundle: Path, candidates: int, directory: Path, rng: random.Random) -> list:
    manifest = json.loads((bundle / "manifest.json").read_text())
    vocab = {f["name"]: (bundle / f["vocabulary"]).read_text().split("\n") for f in manifest["fields"]}
    vocab = {name: [v for v in values if v] for name, values in vocab.items()}
    user_id, item_id = manifest["userIdField"], manifest["itemIdField"]
    sides = {f["name"]: f["side"] for f in manifest["fields"]}

    def features(side, skip):
        return {name: rng.choice(vocab[name]) for name, s in sides.items() if s == side and name != skip}

    paths = []
    for b in range(BODIES):
        request = {
            "userId": rng.choice(vocab[user_id]),
            "userFeatures": features("user", user_id),
            "candidates": [{"itemId": rng.choice(vocab[item_id]), "features": features("item", item_id)}
                           for _ in range(candidates)],
        }
        path = directory / f"body-{b}.json"
        path.write_text(json.dumps(request))
        paths.append(path)
    return paths


def hey(url: str, body: Path, workers: int, requests_per_worker: int, rate_per_worker: float, seconds: int,
        start_after: float = 0.0) -> list:
    """One row (seconds, status) per request; status 0 for a request that got no answer (hey leaves those out)."""
    time.sleep(start_after)
    requests = workers * requests_per_worker
    command = ["hey", "-c", str(workers), "-m", "POST", "-T", "application/json", "-D", str(body), "-o", "csv",
               "-t", "10"]
    command += ["-n", str(requests), "-q", f"{rate_per_worker:.3f}"] if rate_per_worker else ["-z", f"{seconds}s"]
    output = subprocess.run(command + [url], check=True, capture_output=True, text=True).stdout
    # One row per answered request: response-time (s), ..., status-code, offset (s since the start).
    rows = [(float(row["response-time"]), int(row["status-code"])) for row in csv.DictReader(io.StringIO(output))]
    return rows + [(math.nan, 0)] * (max(0, requests - len(rows)) if rate_per_worker else 0)


def measure_saturation(url: str, bodies: list, concurrency: int, seconds: int) -> float:
    """Closed loop: each client sends its next request as soon as the last is answered."""
    def closed_loop(duration):
        share = max(1, concurrency // len(bodies))
        with ThreadPoolExecutor(len(bodies)) as pool:
            parts = pool.map(lambda body: hey(url, body, share, 0, 0, duration), bodies)
        return [row for part in parts for row in part]

    closed_loop(max(5, seconds // 2))  # warm the JIT and the caches first
    return sum(1 for _, status in closed_loop(seconds) if status == 200) / seconds


def offer(url: str, bodies: list, rate: float, seconds: int) -> list:
    """`rate` requests a second for `seconds`, from PROCESSES staggered hey processes."""
    workers = max(PROCESSES, math.ceil(rate / PER_WORKER_RATE))
    per_process = math.ceil(workers / PROCESSES)
    per_worker_rate = rate / (per_process * PROCESSES)
    per_worker = max(1, round(per_worker_rate * seconds))
    stagger = 1 / (per_worker_rate * PROCESSES)
    with ThreadPoolExecutor(PROCESSES) as pool:
        parts = pool.map(lambda p: hey(url, bodies[p % len(bodies)], per_process, per_worker, per_worker_rate, seconds,
                                       p * stagger), range(PROCESSES))
    return [row for part in parts for row in part]


def percentile(values: list, q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] * 1000:.1f}"


def summary_row(level: float, rate: float, rows: list) -> str:
    accepted = [t for t, status in rows if status == 200]
    refused = [t for t, status in rows if status not in (0, 200)]
    count = {code: sum(1 for _, status in rows if status == code) for code in (200, 429, 504, 0)}
    other = len(rows) - sum(count.values())
    return (f"| {level:g}x | {rate:.0f} | {len(rows)} | {count[200]} | {count[429]} | {count[504]} | {other} "
            f"| {count[0]} "
            f"| {percentile(accepted, 0.5)} / {percentile(accepted, 0.99)} "
            f"| {percentile(refused, 0.5)} / {percentile(refused, 0.99)} |")


if __name__ == "__main__":
    sys.exit(main())
