package dev.stemnet.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.scoring.CandidateScores;
import dev.stemnet.service.scoring.FeatureIssues;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ModelMetersTest {

    private final ScoreHistogram taskScores = ModelMeters.taskScoreHistogram();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void countsTheScoresOfTheTasksARequestAskedForAndRemovesOnlyItsOwnVersionsSeries() {
        ModelMeters v1 = new ModelMeters(registry, taskScores, "m", "v1", List.of("follow", "pay"));
        ModelMeters v2 = new ModelMeters(registry, taskScores, "m", "v2", List.of("follow", "pay"));

        // The v1 request asked for pay only.
        v1.recordScored(List.of(new CandidateScores("a1", Map.of("pay", 0.002)),
                new CandidateScores("a2", Map.of("pay", 0.3))), new FeatureIssues());
        v2.recordScored(List.of(new CandidateScores("a1", Map.of("follow", 0.2, "pay", 0.1))), new FeatureIssues());

        assertThat(countsBySeries()).isEqualTo(Map.of(
                "v1 follow", 0L, "v1 pay", 2L, "v2 follow", 1L, "v2 pay", 1L));
        v1.remove();
        assertThat(countsBySeries()).isEqualTo(Map.of("v2 follow", 1L, "v2 pay", 1L));
    }

    private Map<String, Long> countsBySeries() {
        return taskScores.collect().getDataPoints().stream().collect(Collectors.toMap(
                series -> series.getLabels().get("version") + " " + series.getLabels().get("task"),
                HistogramDataPointSnapshot::getCount));
    }
}
