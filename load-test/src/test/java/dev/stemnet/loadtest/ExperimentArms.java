package dev.stemnet.loadtest;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The arms of one experiment layer that the service's responses reported ({@code experiment.assignments[layer].arm}),
 * counted during a two-arm A/B load test ({@code -Dstem.experiment=<file>}). Latency per arm comes from the service's
 * {@code stem_experiment_requests_seconds} histograms after the run ({@code scripts/perf/ab_arm_metrics.py}).
 */
final class ExperimentArms {

    private final String layer;
    private final Map<String, LongAdder> requestsByArm = new ConcurrentHashMap<>();

    ExperimentArms(String layer) {
        this.layer = layer;
    }

    String layer() {
        return layer;
    }

    /** The JSONPath of the layer's arm in a {@code POST /v1/score} response. */
    String armPath() {
        return "$.experiment.assignments[?(@.layer == '" + layer + "')].arm";
    }

    void record(String arm) {
        requestsByArm.computeIfAbsent(arm, a -> new LongAdder()).increment();
    }

    /** Responses per arm, in arm name order. */
    Map<String, Long> counts() {
        Map<String, Long> counts = new TreeMap<>();
        requestsByArm.forEach((arm, count) -> counts.put(arm, count.sum()));
        return counts;
    }

    String summary() {
        long total = counts().values().stream().mapToLong(Long::longValue).sum();
        StringBuilder text = new StringBuilder("stem load test: responses per arm of layer '" + layer + "':");
        counts().forEach((arm, count) -> text.append(String.format(" %s=%d (%.1f%%)", arm, count, 100.0 * count / total)));
        return text.toString();
    }
}
