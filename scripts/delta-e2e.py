#!/usr/bin/env python3
"""End-to-end test of fresh embeddings: a delta loaded into Redis reaches two serving replicas without a reload.

  scripts/delta-e2e.py --base build/delta-e2e/base --delta build/delta-e2e/delta-1 [--jar ...] [--work ...]

--base is a bundle trained on days 1..k, --delta the delta trained on day k+1 from it (`python -m stemnet train
--from-bundle ... --delta-out ...`); the delta's parity fixtures are PyTorch's scores for requests that carry ad
ids the base has never seen. The run:

1. starts a redis-server on a free loopback port, loads the base bundle into it with the service's loader and
   starts two replicas of the service on the Redis store;
2. keeps both replicas under steady load (the base's parity requests, one client thread per replica) from here to
   the end, and requires every one of those responses to be 200;
3. offers the loader three refused variants of the delta (another base, a corrupted table file, parity fixtures
   that do not hold): each must exit non-zero, and both replicas' scores of the base's and the delta's fixtures must
   stay exactly as they were;
4. loads the delta: both replicas must score every fixture of the delta within its tolerance of PyTorch's score,
   within a few seconds of the loader's exit, and the fixtures' new ad ids must have scored differently before;
5. restarts one replica: it must catch up with the delta by itself and score the fixtures the same way.

Prints the status counts, the time from the loader's exit to each replica's first exact answer, and exits non-zero
with a message naming the failed check. Run with the trainer's Python.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

import e2e_support
from e2e_support import CheckFailed, Ports

REPO = Path(__file__).resolve().parents[1]
# From the loader's exit to both replicas answering with the delta's rows: pub/sub should take well under a second,
# the poll that catches up a missed message runs every DELTA_POLL.
FRESH_DEADLINE_S = 10.0
DELTA_POLL = "2s"
REDIS_DEADLINE_S = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, type=Path, help="the bundle trained on days 1..k")
    parser.add_argument("--delta", required=True, type=Path, help="its delta trained on day k+1")
    parser.add_argument("--jar", type=Path, default=REPO / "service/target/stem-net-service.jar")
    parser.add_argument("--work", type=Path, default=REPO / "build/delta-e2e/run", help="emptied, then filled")
    args = parser.parse_args()
    return e2e_support.run_checks("delta-e2e", run, args)


def run(args: argparse.Namespace) -> None:
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    repository = work / "models"
    model_name = json.loads((args.base / "manifest.json").read_text())["model"]["name"]
    shutil.copytree(args.base, repository / model_name)
    base_fixtures = read_fixtures(args.base / "parity.jsonl")
    delta_manifest = json.loads((args.delta / "delta.json").read_text())
    delta_fixtures = read_fixtures(args.delta / delta_manifest["parityFixtures"])
    tolerance = float(delta_manifest.get("parityTolerance", 1e-5))
    probes = [fixture["request"] for fixture in base_fixtures + delta_fixtures]

    with ExitStack() as stack:
        redis_uri = stack.enter_context(redis_server(work / "redis"))
        loader = Loader(args.jar, redis_uri, args.base, work / "loader")
        loader.load_bundle()
        replica_options = replica_options_for(repository, model_name, redis_uri)
        replicas = [stack.enter_context(e2e_support.running_service(args.jar, replica_options, work / f"{name}.log"))
                    for name in ("replica-a", "replica-b")]
        before = [score_all(replica, probes) for replica in replicas]
        if before[0] != before[1]:
            raise CheckFailed("the two replicas score the same requests differently before any delta")
        stale = sum(not within(scores, fixture["expected"], tolerance)
                    for scores, fixture in zip(before[0][len(base_fixtures):], delta_fixtures))
        print(f"delta-e2e: before the delta, {stale} of {len(delta_fixtures)} delta fixtures score away from PyTorch's "
              "post-delta scores")
        if stale == 0:
            raise CheckFailed("every delta fixture already scores as after the delta: it tests nothing")

        load = stack.enter_context(steady_load(replicas, [fixture["request"] for fixture in base_fixtures]))
        for variant, (corrupt, reason) in REFUSED_VARIANTS.items():
            bad_delta = work / "refused" / variant
            shutil.copytree(args.delta, bad_delta)
            corrupt(bad_delta)
            loader.load_delta(bad_delta, refusal=reason)
            for name, replica, scores in zip(("a", "b"), replicas, before):
                if score_all(replica, probes) != scores:
                    raise CheckFailed(f"replica {name}'s scores changed after the refused delta ({variant})")
            print(f"delta-e2e: refused delta ({variant}): the loader refused it ({reason}), both replicas' scores "
                  "unchanged")

        loader.load_delta(args.delta)
        loaded_at = time.monotonic()
        waited = wait_fresh(replicas, delta_fixtures[0], tolerance, loaded_at)
        for name, replica in zip(("a", "b"), replicas):
            check_fresh(f"replica {name}", replica, delta_fixtures, tolerance)
            print(f"delta-e2e: replica {name} answered with the delta's rows {waited[name]:.3f}s after the loader's "
                  f"exit, and scores all {len(delta_fixtures)} delta fixtures as PyTorch does")
        statuses = load.stop()
        print(f"delta-e2e: steady load during the refusals and the update: {dict(statuses)}")
        if set(statuses) != {200}:
            raise CheckFailed(f"steady load got non-200 responses during the update: {dict(statuses)}")

    print("delta-e2e: restarting a replica on the same Redis")
    with redis_server(work / "redis-restart") as redis_uri:
        loader = Loader(args.jar, redis_uri, args.base, work / "loader-restart")
        loader.load_bundle()
        loader.load_delta(args.delta)
        with e2e_support.running_service(args.jar, replica_options_for(repository, model_name, redis_uri),
                                         work / "replica-restarted.log") as replica:
            check_fresh("a replica started after the delta", replica, delta_fixtures, tolerance)
    print("delta-e2e: a replica started after the delta scores every delta fixture as PyTorch does")


def replica_options_for(repository: Path, model_name: str, redis_uri: str) -> list[str]:
    # --stem.warmup.requests: the default 1000 generated requests of 200 candidates would take most of the run.
    return [f"--stem.models.repository={repository}", f"--stem.models.default={model_name}",
            "--stem.embedding.store=redis", f"--stem.embedding.redis.uri={redis_uri}",
            f"--stem.embedding.redis.delta-poll-interval={DELTA_POLL}", "--stem.warmup.requests=50"]


class Loader:
    """The service jar's Redis loader commands, output kept per run."""

    def __init__(self, jar: Path, redis_uri: str, base: Path, logs: Path):
        self.jar, self.redis_uri, self.base, self.logs = jar, redis_uri, base, logs
        logs.mkdir(parents=True, exist_ok=True)
        self.runs = 0

    def load_bundle(self) -> None:
        self._run([f"--stem.embedding.redis.load-bundle={self.base}"], "bundle")

    def load_delta(self, delta: Path, refusal: str | None = None) -> None:
        """With `refusal`, the loader must refuse the delta for that reason (exit 1), not fail otherwise (exit 2)."""
        self._run([f"--stem.embedding.redis.load-delta={delta}", f"--stem.embedding.redis.delta-base={self.base}"],
                  delta.name, refusal)

    def _run(self, options: list[str], label: str, refusal: str | None = None) -> None:
        self.runs += 1
        log = self.logs / f"{self.runs:02d}-{label}.log"
        with log.open("w") as out:
            result = subprocess.run(["java", "-jar", str(self.jar), f"--stem.embedding.redis.uri={self.redis_uri}",
                                     *options], stdout=out, stderr=subprocess.STDOUT, timeout=300)
        if refusal is not None:
            if result.returncode != LOADER_REFUSED or f"({refusal}); nothing was written" not in log.read_text():
                raise CheckFailed(f"the loader must refuse {label} for {refusal} (exit {LOADER_REFUSED}); it exited "
                                  f"{result.returncode}; see {log}")
            return
        if result.returncode != 0:
            raise CheckFailed(f"the loader failed with exit {result.returncode} ({label}); see {log}")


def other_base(delta: Path) -> None:
    manifest = json.loads((delta / "delta.json").read_text())
    manifest["base"]["version"] += "-other"
    (delta / "delta.json").write_text(json.dumps(manifest))


def corrupted_table(delta: Path) -> None:
    """One float of the first non-empty table file changed; the checksum in delta.json stays the old one."""
    manifest = json.loads((delta / "delta.json").read_text())
    table = next(t for t in manifest["tables"] if t["count"] > 0)
    values = bytearray((delta / table["values"]).read_bytes())
    values[0:4] = bytes(4) if values[0:4] != bytes(4) else b"\x00\x00\x80\x3f"
    (delta / table["values"]).write_bytes(values)


def failing_parity(delta: Path) -> None:
    """Every expected score moved by 0.01, with a matching checksum: only scoring the fixtures can tell."""
    manifest = json.loads((delta / "delta.json").read_text())
    path = delta / manifest["parityFixtures"]
    lines = []
    for fixture in read_fixtures(path):
        fixture["expected"] = [{task: min(1.0, score + 0.01) for task, score in scores.items()}
                               for scores in fixture["expected"]]
        lines.append(json.dumps(fixture))
    path.write_text("\n".join(lines) + "\n")
    manifest["files"][manifest["parityFixtures"]] = hashlib.sha256(path.read_bytes()).hexdigest()
    (delta / "delta.json").write_text(json.dumps(manifest))


# Each corruption, and the reason the loader must give for refusing it.
REFUSED_VARIANTS = {"wrong base": (other_base, "wrong_base"), "corrupted table file": (corrupted_table, "checksum"),
                    "failing parity": (failing_parity, "parity")}
LOADER_REFUSED = 1  # the delta loader's exit status for a refused delta; 2 is any other failure


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A redis-server without persistence on a free loopback port; yields its URI."""
    directory.mkdir(parents=True)
    port = e2e_support.free_ports(1)[0]
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(directory)],
                              stdout=(directory / "redis.log").open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + REDIS_DEADLINE_S
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
            if server.poll() is not None or time.monotonic() > deadline:
                raise CheckFailed(f"redis-server did not answer on port {port}; see {directory / 'redis.log'}")
            time.sleep(0.1)  # poll interval until PONG or the deadline
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


class SteadyLoad:
    def __init__(self, replicas: list[Ports], requests: list[dict]):
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(replica, requests), daemon=True)
                        for replica in replicas]

    def _client(self, replica: Ports, requests: list[dict]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", replica.public, timeout=30)
        i = 0
        while not self.stopping.is_set():
            try:
                status, _ = post_score(connection, requests[i % len(requests)])
            except OSError:
                status = -1  # a broken connection counts as a failure, never as success
                connection = http.client.HTTPConnection("127.0.0.1", replica.public, timeout=30)
            with self.lock:
                self.statuses[status] += 1
            i += 1

    def stop(self) -> Counter[int]:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)
        return self.statuses


@contextmanager
def steady_load(replicas: list[Ports], requests: list[dict]) -> Iterator[SteadyLoad]:
    load = SteadyLoad(replicas, requests)
    for thread in load.threads:
        thread.start()
    try:
        yield load
    finally:
        load.stop()


def post_score(connection: http.client.HTTPConnection, request: dict) -> tuple[int, dict]:
    connection.request("POST", "/v1/score", json.dumps(request), {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def score_all(replica: Ports, requests: list[dict]) -> list[list[dict[str, float]]]:
    """Each request's scores per candidate, as the replica returns them (exact floats, compared exactly)."""
    connection = http.client.HTTPConnection("127.0.0.1", replica.public, timeout=30)
    scored = []
    for request in requests:
        status, body = post_score(connection, request)
        if status != 200:
            raise CheckFailed(f"POST /v1/score {request.get('requestId')}: {status} {json.dumps(body)[:300]}")
        scored.append([candidate["scores"] for candidate in body["results"]])
    return scored


def within(scores: list[dict[str, float]], expected: list[dict[str, float]], tolerance: float) -> bool:
    return len(scores) == len(expected) and all(
        abs(got[task] - want) <= tolerance for got, wanted in zip(scores, expected) for task, want in wanted.items())


def check_fresh(label: str, replica: Ports, fixtures: list[dict], tolerance: float) -> None:
    """Every fixture scored within tolerance of PyTorch's post-delta scores."""
    scored = score_all(replica, [fixture["request"] for fixture in fixtures])
    stale = [fixture for fixture, scores in zip(fixtures, scored) if not within(scores, fixture["expected"], tolerance)]
    if stale:
        raise CheckFailed(f"{label} scores {len(stale)} delta fixtures away from PyTorch, e.g. "
                          f"{stale[0]['request']['requestId']}")


def wait_fresh(replicas: list[Ports], fixture: dict, tolerance: float, since: float) -> dict[str, float]:
    """Seconds from `since` until each replica scores `fixture` (one request with new ids) as PyTorch does after the
    delta; both replicas are asked in turn, one request each, so either one's moment is known to a round trip."""
    waited: dict[str, float] = {}
    while len(waited) < len(replicas):
        for name, replica in zip(("a", "b"), replicas):
            if name not in waited and within(score_all(replica, [fixture["request"]])[0], fixture["expected"],
                                             tolerance):
                waited[name] = time.monotonic() - since
        if time.monotonic() - since > FRESH_DEADLINE_S:
            raise CheckFailed(f"replica(s) {sorted({'a', 'b'} - set(waited))} still score new ids away from PyTorch "
                              f"{FRESH_DEADLINE_S:.0f}s after the loader's exit")
        time.sleep(0.01)  # poll interval; the loop ends on fresh scores or the deadline
    return waited


def read_fixtures(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


if __name__ == "__main__":
    sys.exit(main())
