package dev.stemnet.service.metrics;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.function.Supplier;
import org.springframework.stereotype.Component;

/** The service's own meters, published at {@code /actuator/prometheus} next to Spring's HTTP and JVM meters. */
@Component
public class ScoringMetrics {

    private final Timer scoring;
    private final DistributionSummary candidates;

    public ScoringMetrics(MeterRegistry registry) {
        this.scoring = Timer.builder("stem.score")
                .description("Time to score one request, from validated request to scores")
                .register(registry);
        this.candidates = DistributionSummary.builder("stem.score.candidates")
                .description("Candidates per scored request")
                .register(registry);
    }

    public <T> T recordScoring(int candidateCount, Supplier<T> scoringCall) {
        candidates.record(candidateCount);
        return scoring.record(scoringCall);
    }
}
