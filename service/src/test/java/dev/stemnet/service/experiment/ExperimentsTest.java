package dev.stemnet.service.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The experiment holder against a registry where nothing serves; the HTTP side is in {@link ExperimentApiTest}. */
class ExperimentsTest {

    private static final String LABELS_ONLY = """
            version: v1
            layers:
              - name: creative
                salt: creative-1
                buckets: 100
                arms:
                  - {name: a, percent: 50}
                  - {name: b, percent: 50}
            """;
    private static final String TWO_MODELS = """
            version: m1
            layers:
              - name: model
                salt: stem-vs-mmoe-1
                buckets: 10
                arms:
                  - {name: control, model: mmoe, ranges: "0-4"}
                  - {name: treatment, model: stem-net, ranges: "5-9"}
            """;
    private static final ForcedArms NOT_FORCED = new ForcedArms(null, null, null);

    @TempDir
    Path directory;

    private final ServingVersions nothingServes = TreeMap::new;
    private final ExperimentMetrics metrics = new ExperimentMetrics(new SimpleMeterRegistry(), new PrometheusRegistry());

    @Test
    void refusesToStartWithAFileThatFailsItsChecks() throws IOException {
        Path file = write(TWO_MODELS.replace("\"5-9\"", "\"4-9\""));

        assertThatThrownBy(() -> new Experiments(file, Map.of(), nothingServes, metrics))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stem.experiments.config")
                .hasMessageContaining("layers[model].arms[treatment].ranges: '4-9' overlaps arm 'control' at bucket 4");
    }

    @Test
    void reportsArmsWhoseModelDoesNotServeSoThatReadinessWaits() throws IOException {
        Experiments experiments = new Experiments(write(TWO_MODELS), Map.of(), nothingServes, metrics);

        assertThat(experiments.unservedArms()).hasSize(2)
                .anySatisfy(problem -> assertThat(problem).contains("model 'mmoe' of arm 'control' in layer 'model' is not serving"));
    }

    @Test
    void refusesANewFileThatKeepsTheVersionButChangesTheContent() throws IOException {
        Path file = write(LABELS_ONLY);
        Experiments experiments = new Experiments(file, Map.of(), nothingServes, metrics);
        Files.writeString(file, LABELS_ONLY.replace("creative-1", "creative-2"));

        Experiments.ReloadResult result = experiments.reload();

        assertThat(result.outcome()).isEqualTo(Experiments.Outcome.REJECTED);
        assertThat(result.error()).contains("version: 'v1' is already active with other content");
        assertThat(experiments.active().orElseThrow().layers().get(0).salt()).isEqualTo("creative-1");
    }

    @Test
    void withoutAModelLayerLabelsTheUnitAndLeavesTheModelToTheRequest() throws IOException {
        Experiments experiments = new Experiments(write(LABELS_ONLY), Map.of(), nothingServes, metrics);

        ExperimentDecision decision = experiments.decide("u1", null, NOT_FORCED);

        assertThat(decision.model()).isNull();
        assertThat(decision.armChoseModel()).isFalse();
        assertThat(decision.assignments()).singleElement()
                .satisfies(assignment -> assertThat(assignment.layer()).isEqualTo("creative"));
        assertThat(experiments.decide("u1", null, NOT_FORCED)).isEqualTo(decision);
    }

    @Test
    void refusesForcedArmsFromCallersThatAreNotAllowListed() throws IOException {
        Experiments experiments = new Experiments(write(LABELS_ONLY), Map.of("qa", "t0ken"), nothingServes, metrics);

        assertThatThrownBy(() -> experiments.decide("u1", null, new ForcedArms("creative=a", "qa", "guess")))
                .isInstanceOf(ForcedAssignmentForbiddenException.class);
        assertThat(experiments.decide("u1", null, new ForcedArms("creative=b", "qa", "t0ken")).assignments().get(0))
                .satisfies(assignment -> {
                    assertThat(assignment.arm()).isEqualTo("b");
                    assertThat(assignment.forced()).isTrue();
                });
    }

    @Test
    void shadowsTheUnitsInTheShadowsShareAndArmButNotAQaCallersRequests() throws IOException {
        Experiments experiments = new Experiments(write(TWO_MODELS + """
                shadows:
                  - {name: half, model: ple, salt: shadow-half, buckets: 2, ranges: "0"}
                  - {name: treated, model: aitm, salt: shadow-treated, buckets: 1, percent: 100, layer: model, arm: treatment}
                """), Map.of("qa", "t0ken"), nothingServes, metrics);
        ExperimentConfig config = experiments.active().orElseThrow();
        ExperimentConfig.Shadow half = config.shadows().get(0);
        ExperimentConfig.Layer model = config.modelLayer().orElseThrow();

        int shadowed = 0;
        for (int i = 0; i < 200; i++) {
            String unit = "unit-" + i;
            List<String> shadows = experiments.decide(unit, null, NOT_FORCED).shadows().stream()
                    .map(ExperimentConfig.Shadow::name).toList();
            assertThat(shadows.contains("half")).isEqualTo(config.shadows(half, unit));
            assertThat(shadows.contains("treated"))
                    .isEqualTo(model.armOf(config.bucket(model, unit)).name().equals("treatment"));
            shadowed += shadows.contains("half") ? 1 : 0;
        }
        assertThat(shadowed).as("about half of 200 units").isBetween(70, 130);
        assertThat(experiments.decide("unit-1", null, new ForcedArms("model=treatment", "qa", "t0ken")).shadows())
                .isEmpty();
    }

    @Test
    void writesExposureTimesWithMillisecondsAlways() {
        assertThat(ExposureRecord.time(Instant.parse("2026-11-25T10:00:00Z"))).isEqualTo("2026-11-25T10:00:00.000Z");
        assertThat(ExposureRecord.time(Instant.parse("2026-11-25T10:00:00.123456Z"))).isEqualTo("2026-11-25T10:00:00.123Z");
    }

    private Path write(String yaml) throws IOException {
        return Files.writeString(directory.resolve("experiments.yaml"), yaml);
    }
}
