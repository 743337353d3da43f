"""Per-arm figures of an A/B load test, read from the service's Prometheus page after the run.

    model-export/.venv/bin/python scripts/perf/ab_arm_metrics.py --experiment load-test/experiments/fp32-vs-int8.yaml \
        [--prometheus http://localhost:8081/actuator/prometheus]

Prints, for every arm of the experiment's model layer, the requests the service counted
(`stem_experiment_requests_seconds_count`, by outcome), the p50/p95/p99 of their service-side latency,
estimated from the histogram's buckets the way Prometheus' histogram_quantile does (linear within a bucket),
and the arm model's ONNX Runtime time per request (`stem_stage_seconds{stage="run"}`: mean and p50), the part
of the latency the model's precision changes.
Exits 1 when an arm of the file got no successful request: the per-arm metrics were not exercised.
"""
from __future__ import annotations

import argparse
import sys
import urllib.request
from collections import defaultdict

from prometheus_text import samples
from stemnet.analysis.ab_report import model_layer

QUANTILES = (0.5, 0.95, 0.99)


def quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """histogram_quantile over cumulative (upper bound, count) pairs sorted by bound."""
    total = buckets[-1][1]
    rank, lower, below = q * total, 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-12)
        lower, below = bound, count
    return lower


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--prometheus", default="http://localhost:8081/actuator/prometheus")
    args = parser.parse_args()
    layer_config = model_layer(args.experiment)
    layer = layer_config["name"]
    arms = {arm["name"]: arm.get("model") for arm in layer_config["arms"]}
    with urllib.request.urlopen(args.prometheus, timeout=10) as response:
        text = response.read().decode("utf-8")

    counts: dict[str, dict[str, float]] = defaultdict(dict)
    for labels, value in samples(text, "stem_experiment_requests_seconds_count"):
        if labels.get("layer") == layer:
            counts[labels["arm"]][labels["outcome"]] = value
    buckets: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for labels, value in samples(text, "stem_experiment_requests_seconds_bucket"):
        if labels.get("layer") == layer and labels.get("outcome") == "ok":
            buckets[labels["arm"]].append((float(labels["le"]), value))
    run: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    run_buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for suffix in ("sum", "count"):
        for labels, value in samples(text, f"stem_stage_seconds_{suffix}"):
            if labels.get("stage") == "run":
                run[labels["model"]][suffix] += value
    for labels, value in samples(text, "stem_stage_seconds_bucket"):
        if labels.get("stage") == "run":
            run_buckets[labels["model"]][float(labels["le"])] += value

    print(f"per-arm service metrics, layer {layer!r} ({args.prometheus}):")
    print("| arm | model | requests (by outcome) | p50 | p95 | p99 | ONNX run mean / p50 |")
    print("|---|---|---|---|---|---|---|")
    missing = []
    for arm, model in arms.items():
        outcomes = counts.get(arm, {})
        ordered = sorted(buckets.get(arm, []))
        if not outcomes.get("ok"):
            missing.append(arm)
        percentiles = [f"{1000 * quantile(q, ordered):.1f} ms" if ordered and ordered[-1][1] else "-" for q in QUANTILES]
        by_outcome = ", ".join(f"{o} {int(c)}" for o, c in sorted(outcomes.items())) or "none"
        stage, stage_buckets = run.get(model, {}), sorted(run_buckets.get(model, {}).items())
        run_text = "-"
        if stage.get("count"):
            run_text = (f"{1000 * stage['sum'] / stage['count']:.2f} / "
                        f"{1000 * quantile(0.5, stage_buckets):.2f} ms")
        print(f"| {arm} | {model} | {by_outcome} | " + " | ".join(percentiles) + f" | {run_text} |")
    if missing:
        print(f"error: arm(s) {missing} of layer {layer!r} got no successful request", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
