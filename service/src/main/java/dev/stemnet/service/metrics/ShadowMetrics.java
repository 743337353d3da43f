package dev.stemnet.service.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.stereotype.Component;

/**
 * Per shadow (the experiment file's name, a bounded label set): what became of each request it was to score, how
 * long after the served scores its own were ready, and how far its scores lie from the served ones.
 */
@Component
public class ShadowMetrics {

    /** What became of one request a shadow was to score. */
    public enum Outcome {
        /** Scored; its line is in the exposure log. */
        SCORED,
        /** Shed: the shadow's queue was full. */
        QUEUE_FULL,
        /** Shed: serving requests were waiting for a scoring slot, or came to wait while this one was queued. */
        OVERLOAD,
        /** Its model does not serve (not loaded, or unloaded since the configuration was read). */
        NOT_LOADED,
        /** Not scored within {@code stem.shadow.deadline}. */
        TIMEOUT,
        /** Scoring failed: the shadow model refused the request or broke. */
        ERROR;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Shadow minus served score, symmetric around 0 and dense near it, where two good models mostly differ. */
    private static final double[] DIFFERENCE_BUCKETS = {-0.5, -0.25, -0.1, -0.05, -0.025, -0.01, -0.005, -0.001, 0.001,
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5};

    private final MeterRegistry registry;
    private final Set<String> declared = ConcurrentHashMap.newKeySet();
    private final ScoreHistogram differences = new ScoreHistogram("stem_shadow_score_difference",
            "Shadow score minus served score, per candidate and task", DIFFERENCE_BUCKETS, "shadow", "task");

    private final AtomicInteger loweredThreads = new AtomicInteger();

    public ShadowMetrics(MeterRegistry registry, PrometheusRegistry prometheusRegistry) {
        this.registry = registry;
        prometheusRegistry.register(differences);
        Gauge.builder("stem.shadow.threads.lowered", loweredThreads, AtomicInteger::get)
                .description("Shadow threads running below the serving threads' priority (stem.shadow.nice, sched-idle);"
                        + " fewer than stem.shadow.threads means shadows compete with served requests for the cores")
                .register(registry);
    }

    /** One more shadow thread runs at the lowered priority. */
    public void threadLowered() {
        loweredThreads.incrementAndGet();
    }

    /** Every outcome's series from a shadow's first request on, at 0 until it happens, so rates are 0, not absent. */
    public void count(String shadow, String model, Outcome outcome) {
        if (declared.add(shadow + "\u0000" + model)) {
            for (Outcome each : Outcome.values()) {
                counter(shadow, model, each);
            }
        }
        counter(shadow, model, outcome).increment();
    }

    private Counter counter(String shadow, String model, Outcome outcome) {
        return Counter.builder("stem.shadow.requests")
                .description("Requests a shadow was to score, by outcome: scored, or shed (queue_full, overload) or"
                        + " failed (not_loaded, timeout, error)")
                .tag("shadow", shadow).tag("model", model).tag("outcome", outcome.label())
                .register(registry);
    }

    /** From the served scores to the shadow's, its wait in the shadow queue included. */
    public void scored(String shadow, String model, long nanosAfterServed) {
        Timer.builder("stem.shadow.seconds")
                .description("Time from the served scores to the shadow's scores of the same request")
                .tag("shadow", shadow).tag("model", model)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry)
                .record(nanosAfterServed, TimeUnit.NANOSECONDS);
    }

    /** One request's differences, shadow minus served, of one task. */
    public void differences(String shadow, String task, double[] shadowMinusServed) {
        differences.series(shadow, task).record(shadowMinusServed);
    }
}
