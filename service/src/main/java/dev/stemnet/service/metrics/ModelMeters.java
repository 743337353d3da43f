package dev.stemnet.service.metrics;

import dev.stemnet.service.scoring.CandidateScores;
import dev.stemnet.service.scoring.FeatureIssues;
import dev.stemnet.service.scoring.ScoringStage;
import dev.stemnet.service.scoring.StageTimings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The meters of one model version, tagged {@code model} and {@code version}, registered while it is loaded. */
public final class ModelMeters implements StageTimings {

    /** Buckets over [0, 1] dense near 0, where conversion probabilities live, for watching calibration drift. */
    private static final double[] SCORE_BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0};
    private static final double[] CANDIDATE_BUCKETS = {1, 10, 50, 100, 200, 500, 1000, 2000};
    private static final String UNKNOWN_FEATURES = "stem.unknown.features";
    private static final String UNKNOWN_FEATURES_DESCRIPTION =
            "Request features that are not a field of their side; with model \"none\", keys the request API does not have";
    /** The model and version of what is counted before a model is chosen, as {@code stem_requests_seconds} has it. */
    private static final String NO_MODEL = "none";

    private final MeterRegistry registry;
    private final Tags tags;
    private final Map<ScoringStage, Timer> stages = new EnumMap<>(ScoringStage.class);
    private final Counter networkCpu;
    private final DistributionSummary candidates;
    private final ScoreHistogram taskScores;
    private final Map<String, ScoreHistogram.Series> scoresByTask = new HashMap<>();

    /** @param taskScores {@code stem_task_score} of every model version ({@link #taskScoreHistogram()}) */
    ModelMeters(MeterRegistry registry, ScoreHistogram taskScores, String model, String version, List<String> tasks) {
        this.registry = registry;
        this.taskScores = taskScores;
        this.tags = Tags.of("model", model, "version", version);
        for (ScoringStage stage : ScoringStage.values()) {
            stages.put(stage, Timer.builder("stem.stage")
                    .description("Time in one stage of scoring: encode (values to rows), fetch (embedding rows), run (ONNX)")
                    .tags(tags).tag("stage", stage.label())
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1).dividedBy(100))
                    .maximumExpectedValue(Duration.ofSeconds(5))
                    .register(registry));
        }
        this.networkCpu = Counter.builder("stem.network.cpu")
                .description("CPU time of the serving threads inside the network (ONNX Runtime's session.run) for served"
                        + " requests; against process_cpu_time, the share of the process's CPU the network takes")
                .baseUnit("seconds")
                .tags(tags)
                .register(registry);
        this.candidates = DistributionSummary.builder("stem.score.candidates")
                .description("Candidates per scored request")
                .tags(tags)
                .serviceLevelObjectives(CANDIDATE_BUCKETS)
                .register(registry);
        for (String task : tasks) {
            scoresByTask.put(task, taskScores.series(model, version, task));
        }
    }

    /**
     * Keys of a score request or of a candidate that the API does not have, when they are ignored
     * ({@code stem.scoring.unknown-features=ignore}). They are found while the body is read, before a model is
     * chosen: model and version {@code none}, field {@link FeatureIssues#OTHER_FEATURE}.
     */
    public static Counter unknownRequestKeys(MeterRegistry registry) {
        return Counter.builder(UNKNOWN_FEATURES)
                .description(UNKNOWN_FEATURES_DESCRIPTION)
                .tags("model", NO_MODEL, "version", NO_MODEL, "field", FeatureIssues.OTHER_FEATURE)
                .register(registry);
    }

    /** {@code stem_task_score}, by model, version and task; each version adds its series. */
    static ScoreHistogram taskScoreHistogram() {
        return new ScoreHistogram("stem_task_score", "Scores served per task and candidate, to watch calibration drift",
                SCORE_BUCKETS, "model", "version", "task");
    }

    /** The buckets of {@code stem_task_score}, for meters that must compare with it (per experiment arm). */
    public static double[] scoreBuckets() {
        return SCORE_BUCKETS.clone();
    }

    @Override
    public void record(ScoringStage stage, long nanos) {
        stages.get(stage).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void recordNetworkCpu(long nanos) {
        networkCpu.increment(nanos / 1e9);
    }

    /** A scored request: its size, its scores and what its features lacked. */
    public void recordScored(List<CandidateScores> results, FeatureIssues issues) {
        candidates.record(results.size());
        // Every result of a request has the same tasks: those the request asked for.
        if (!results.isEmpty()) {
            for (String task : results.get(0).scores().keySet()) {
                scoresByTask.get(task).record(results, task);
            }
        }
        count(UNKNOWN_FEATURES, UNKNOWN_FEATURES_DESCRIPTION, issues.unknownFeatures());
        count("stem.missing.values", "Feature values left out, scored with the field's OOV row (or the bundle's missingValue)", issues.missingValues());
        count("stem.unknown.values", "Feature values not in the vocabulary, scored with the field's OOV row",
                issues.unknownValues());
    }

    /** Field labels are manifest field names or {@link FeatureIssues#OTHER_FEATURE}: a bounded set. */
    private void count(String name, String description, Map<String, Integer> byField) {
        byField.forEach((field, count) -> Counter.builder(name)
                .description(description)
                .tags(tags).tag("field", field)
                .register(registry)
                .increment(count));
    }

    /** Whether both are meters of one model version, and so share every meter and series. */
    boolean sameVersion(ModelMeters other) {
        return tags.equals(other.tags);
    }

    /** Unregisters every meter of this version, counters included, so that retired versions leave no series. */
    void remove() {
        taskScores.removeIf(labels -> tags.stream().allMatch(tag -> tag.getValue().equals(labels.get(tag.getKey()))));
        registry.getMeters().stream()
                .filter(meter -> tags.stream().allMatch(tag -> tag.getValue().equals(meter.getId().getTag(tag.getKey()))))
                .toList()
                .forEach(registry::remove);
    }
}
