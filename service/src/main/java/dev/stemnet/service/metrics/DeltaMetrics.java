package dev.stemnet.service.metrics;

import dev.stemnet.service.delta.DeltaAttempt;
import dev.stemnet.service.delta.DeltaEvents;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.scoring.EmbeddingState;
import dev.stemnet.service.scoring.Scorer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * The meters of deltas: attempts by outcome and reason, rows written per table (counters by model, kept across
 * versions), and per serving version the applied sequence, the age of the newest delta and each field's vocabulary
 * size (gauges tagged {@code model} and {@code version}, removed with the version's other meters when it closes).
 */
@Component
public class DeltaMetrics implements DeltaEvents {

    static final String AGE = "stem.delta.age";
    private static final String SEQUENCE = "stem.delta.sequence";
    private static final String VOCABULARY_SIZE = "stem.vocabulary.size";

    private final MeterRegistry registry;

    public DeltaMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void attempted(String model, String version, Scorer scorer, DeltaAttempt attempt) {
        Counter.builder("stem.deltas")
                .description("Deltas offered to a serving model: applied, refused (reason: the check that failed) or"
                        + " skipped (already applied)")
                .tag("model", model)
                .tag("outcome", attempt.outcome().name().toLowerCase())
                .tag("reason", attempt.reason() == null ? "none" : attempt.reason())
                .register(registry)
                .increment();
        attempt.rowsByTable().forEach((table, rows) -> Counter.builder("stem.delta.rows")
                .description("Embedding rows written by applied deltas, appended and changed")
                .tag("model", model).tag("table", table)
                .register(registry)
                .increment(rows));
        if (attempt.outcome() == DeltaAttempt.Outcome.APPLIED) {
            bindAge(model, version, scorer);
        }
    }

    /**
     * The gauges of a version that starts serving; the age only once it has a delta. A bundle reloaded in place under
     * the same version replaces the gauges of the copy it replaces: the registry would otherwise keep reading that one.
     */
    public void bind(LoadedModel model) {
        String name = model.manifest().model().name();
        String version = model.manifest().model().version();
        Scorer scorer = model.scorer();
        for (String gauge : List.of(SEQUENCE, VOCABULARY_SIZE, AGE)) {
            registry.find(gauge).tags("model", name, "version", version).gauges().forEach(registry::remove);
        }
        Gauge.builder(SEQUENCE, scorer, s -> s.embeddings().sequence())
                .description("The sequence of the newest delta applied to the serving version, 0 for none")
                .tag("model", name).tag("version", version)
                .strongReference(true)
                .register(registry);
        for (String field : scorer.embeddings().vocabularySizes().keySet()) {
            Gauge.builder(VOCABULARY_SIZE, scorer, s -> s.embeddings().vocabulary(field).size())
                    .description("Values a field's vocabulary holds, the OOV row and the values deltas added included")
                    .tag("model", name).tag("version", version).tag("field", field)
                    .strongReference(true)
                    .register(registry);
        }
        if (scorer.embeddings().sequence() > 0) {
            bindAge(name, version, scorer);
        }
    }

    /** No series before the first delta: a version without deltas has no age to alert on. */
    private void bindAge(String model, String version, Scorer scorer) {
        if (registry.find(AGE).tags("model", model, "version", version).gauge() != null) {
            return;
        }
        Gauge.builder(AGE, scorer, DeltaMetrics::ageSeconds)
                .description("Seconds since the trainer wrote the newest delta applied to the serving version")
                .baseUnit("seconds")
                .tag("model", model).tag("version", version)
                .strongReference(true)
                .register(registry);
    }

    private static double ageSeconds(Scorer scorer) {
        EmbeddingState state = scorer.embeddings();
        Instant createdAt = state.deltaCreatedAt();
        return createdAt == null ? Double.NaN : Duration.between(createdAt, Instant.now()).toMillis() / 1000.0;
    }
}
