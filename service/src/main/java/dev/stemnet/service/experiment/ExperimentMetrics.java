package dev.stemnet.service.experiment;

import dev.stemnet.service.metrics.ModelMeters;
import dev.stemnet.service.metrics.ScoreHistogram;
import dev.stemnet.service.pipeline.ScoredExchange;
import dev.stemnet.service.pipeline.ScoringRecorder;
import dev.stemnet.service.scoring.CandidateScores;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.stereotype.Component;

/**
 * Per-arm meters, labelled {@code layer} and {@code arm}: only names from the configuration, so the label set is
 * bounded by what operators configure. Forced units are counted apart and kept out of the per-arm series, which
 * must hold the random sample only. (Per-arm request counts and latency are recorded by the request filter,
 * which also sees failed requests.)
 */
@Component
public class ExperimentMetrics implements ScoringRecorder {

    private final MeterRegistry registry;
    private final AtomicReference<Gauge> configInfo = new AtomicReference<>();
    private final MultiGauge armShares;
    private final ScoreHistogram taskScores = new ScoreHistogram("stem_experiment_task_score",
            "Scores served per experiment arm and task, to compare calibration between arms",
            ModelMeters.scoreBuckets(), "layer", "arm", "task");

    public ExperimentMetrics(MeterRegistry registry, PrometheusRegistry prometheusRegistry) {
        this.registry = registry;
        prometheusRegistry.register(taskScores);
        this.armShares = MultiGauge.builder("stem.experiment.arm.share")
                .description("The share of units the active configuration assigns to each arm, for sample-ratio checks")
                .register(registry);
    }

    @Override
    public void scored(ScoredExchange exchange) {
        recordScored(exchange.decision(), exchange.scored().results());
    }

    /** Every served score, by arm and task, with the buckets of {@code stem_task_score}. */
    public void recordScored(ExperimentDecision decision, List<CandidateScores> results) {
        if (results.isEmpty()) {
            return;
        }
        decision.randomArmsByLayer().forEach((layer, arm) -> {
            for (String task : results.get(0).scores().keySet()) {
                taskScores.series(layer, arm, task).record(results, task);
            }
        });
    }

    void forced(String layer, String arm) {
        Counter.builder("stem.experiment.forced")
                .description("Requests whose arm a QA caller forced; not in the per-arm series")
                .tag("layer", layer).tag("arm", arm)
                .register(registry).increment();
    }

    void reloaded(Experiments.Outcome outcome) {
        Counter.builder("stem.experiment.reloads")
                .description("Reloads of the experiment configuration by outcome")
                .tag("outcome", outcome.name().toLowerCase())
                .register(registry).increment();
    }

    /** One series, {@code version} the active configuration's, so dashboards can mark configuration changes. */
    void activated(ExperimentConfig config) {
        Gauge previous = configInfo.getAndSet(Gauge.builder("stem.experiment.config.info", () -> 1)
                .description("The active experiment configuration")
                .tag("version", config.version())
                .register(registry));
        if (previous != null && !previous.getId().equals(configInfo.get().getId())) {
            registry.remove(previous);
        }
        // Overwriting replaces the rows of the previous configuration, so removed arms disappear.
        armShares.register(config.layers().stream()
                .flatMap(layer -> layer.arms().stream().map(arm -> MultiGauge.Row.of(
                        Tags.of("layer", layer.name(), "arm", arm.name()),
                        layer.armByBucket().stream().filter(arm::equals).count() / (double) layer.buckets())))
                .toList(), true);
    }
}
