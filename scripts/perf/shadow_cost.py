#!/usr/bin/env python3
"""What a 100% shadow of the same size costs the served traffic, and that overload sheds shadows first.

One service, its experiment file rewritten and reloaded between phases (POST :8081/actuator/experiments), so that
phases without and with the shadow alternate on the same warm process: at each load below saturation (--fractions of
it) the served requests' status counts and client-side p50/p99 without and with the shadow, then with the shadow at
1x, 2x and 4x saturation what became of the shadows (stem_shadow_requests_total by outcome) beside the served requests'
429s. The shadow is the serving model itself (`shadow.model = --model`): the same work again, off the request path.
Beside the client's p99 each phase prints the share of served requests that took longer than --inside-over-ms inside
the service (its stem_requests_seconds buckets, read around the phase): whether the slowest requests got slower in
the service itself or only on their way through the shared cores.

    scripts/with-service.sh ... python3 scripts/perf/shadow_cost.py --bundle build/bundles/stem-net \\
        --experiment-file build/shadow-cost/experiments.yaml --admin-token TOKEN

needs the service started with --stem.experiments.config=<--experiment-file> and --stem.admin.token=<TOKEN> (`make
shadow-cost` does all of it) and `hey` on the PATH. Loopback only.
"""
import argparse
import math
import random
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import overload  # noqa: E402  (the load generation is overload.py's)
from prometheus_text import samples  # noqa: E402

WITHOUT = """version: shadow-cost-off-{round}
layers:
  - {{name: label, salt: shadow-cost-label, buckets: 2, arms: [{{name: a, percent: 50}}, {{name: b, percent: 50}}]}}
"""
WITH = WITHOUT.replace("off-", "on-") + """shadows:
  - {{name: same-model, model: {model}, salt: shadow-cost-1, buckets: 100, percent: 100}}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--model", default="stem-net", help="the serving model, shadowed by itself")
    parser.add_argument("--experiment-file", type=Path, required=True, help="the service's stem.experiments.config")
    parser.add_argument("--admin-token", required=True)
    parser.add_argument("--url", default="http://127.0.0.1:8080/v1/score")
    parser.add_argument("--management", default="http://127.0.0.1:8081")
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--fractions", default="0.3",
                        help="loads for the with/without comparison, as fractions of saturation (comma-separated)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup-seconds", type=int, default=20, help="with the shadow, before the first round")
    parser.add_argument("--overload-levels", default="1,2,4")
    parser.add_argument("--inside-over-ms", type=float, default=7.0,
                        help="the service's own time above which a served request counts as slow (nearest bucket bound)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        bodies = overload.write_bodies(args.bundle, args.candidates, Path(scratch), random.Random(0))
        configure(args, WITHOUT.format(round=0))
        saturation = overload.measure_saturation(args.url, bodies, 16, args.seconds)
        fractions = [float(x) for x in args.fractions.split(",")]
        print(f"saturation: {saturation:.1f} requests/s without a shadow; comparison at "
              + ", ".join(f"{f:g}x = {f * saturation:.0f}" for f in fractions)
              + f" requests/s, {args.rounds} interleaved rounds of {args.seconds} s each", flush=True)
        print()
        # Without it the first round with the shadow was the slowest of its load in every run (docs/performance.md,
        # "Shadow traffic"), most likely the shadow path being compiled on JIT threads of the serving priority.
        configure(args, WITH.format(round="warm-up", model=args.model))
        overload.offer(args.url, bodies, fractions[0] * saturation, args.warmup_seconds)
        print(f"warm-up: {args.warmup_seconds} s with the shadow at {fractions[0]:g}x, not counted", flush=True)
        bound = nearest_bound(scrape(args.management), args.inside_over_ms / 1000)
        print(f"| load | round | shadow | 200 | 429 | 504 | other | accepted p50 / p99 ms "
              f"| shadows scored / shed / failed | served over {bound * 1000:.1f} ms inside the service |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        ratios = {}
        for fraction in fractions:
            p99 = {"off": [], "on": []}
            for round_ in range(1, args.rounds + 1):
                for mode, template in (("off", WITHOUT), ("on", WITH)):
                    configure(args, template.format(round=f"{fraction:g}-{round_}", model=args.model))
                    before = scrape(args.management)
                    rows = overload.offer(args.url, bodies, fraction * saturation, args.seconds)
                    after = scrape(args.management)
                    accepted = [t for t, status in rows if status == 200]
                    p99[mode].append(float(overload.percentile(accepted, 0.99)))
                    print(f"| {fraction:g}x | {round_} | {mode} | {counts(rows)} | "
                          f"{overload.percentile(accepted, 0.5)} / {overload.percentile(accepted, 0.99)} "
                          f"| {shadows(before, after)} | {share_over(before, after, bound)} |", flush=True)
            ratios[fraction] = sum(p99["on"]) / sum(p99["off"])
        print()
        for fraction, ratio in ratios.items():
            print(f"served p99 with the shadow / without at {fraction:g}x saturation: {ratio:.3f} "
                  f"(mean of {args.rounds} rounds each)")
        print()

        configure(args, WITH.format(round=args.rounds + 1, model=args.model))
        print("| level | offered req/s | 200 | 429 | 504 | other | refused p99 ms | shadows scored / shed / failed |")
        print("|---|---|---|---|---|---|---|---|")
        for level in (float(x) for x in args.overload_levels.split(",")):
            before = scrape(args.management)
            rows = overload.offer(args.url, bodies, level * saturation, args.seconds)
            after = scrape(args.management)
            refused = [t for t, status in rows if status not in (0, 200)]
            print(f"| {level:g}x | {level * saturation:.0f} | {counts(rows)} | {overload.percentile(refused, 0.99)} | "
                  f"{shadows(before, after)} |", flush=True)
    return 0


def configure(args, text: str) -> None:
    args.experiment_file.write_text(text)
    request = urllib.request.Request(args.management + "/actuator/experiments", method="POST",
                                     headers={"Authorization": "Bearer " + args.admin_token})
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200:
            raise SystemExit(f"reload answered {response.status}")


def scrape(management: str) -> str:
    with urllib.request.urlopen(management + "/actuator/prometheus", timeout=30) as response:
        return response.read().decode()


def shadow_outcomes(text: str) -> dict:
    outcomes = {}
    for labels, value in samples(text, "stem_shadow_requests_total"):
        outcomes[labels["outcome"]] = outcomes.get(labels["outcome"], 0) + value
    return outcomes


def counts(rows: list) -> str:
    count = {code: sum(1 for _, status in rows if status == code) for code in (200, 429, 504)}
    return f"{count[200]} | {count[429]} | {count[504]} | {len(rows) - sum(count.values())}"


def served_buckets(text: str) -> dict:
    """Cumulative count of served requests (score, outcome ok) by bucket bound in seconds, over every model."""
    buckets = {}
    for labels, value in samples(text, "stem_requests_seconds_bucket"):
        if labels.get("endpoint") == "score" and labels.get("outcome") == "ok":
            bound = float(labels["le"])  # "+Inf" reads as math.inf
            buckets[bound] = buckets.get(bound, 0) + value
    return buckets


def nearest_bound(text: str, seconds: float) -> float:
    bounds = [b for b in served_buckets(text) if b != math.inf]
    if not bounds:
        raise SystemExit("the service exports no stem_requests_seconds buckets for served requests yet")
    return min(bounds, key=lambda b: abs(b - seconds))


def share_over(before: str, after: str, bound: float) -> str:
    start, end = served_buckets(before), served_buckets(after)
    total = end[math.inf] - start.get(math.inf, 0)
    within = end[bound] - start.get(bound, 0)
    return f"{100 * (total - within) / total:.2f}%" if total else "-"


def shadows(before_text: str, after_text: str) -> str:
    before, after = shadow_outcomes(before_text), shadow_outcomes(after_text)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    shed = delta.get("overload", 0) + delta.get("queue_full", 0)
    failed = delta.get("not_loaded", 0) + delta.get("timeout", 0) + delta.get("error", 0)
    return f"{delta.get('scored', 0):.0f} / {shed:.0f} / {failed:.0f}"


if __name__ == "__main__":
    sys.exit(main())
