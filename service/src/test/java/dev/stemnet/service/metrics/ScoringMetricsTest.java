package dev.stemnet.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.TestBundle;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.ModelLoader;
import dev.stemnet.service.model.TestModelLoader;
import dev.stemnet.service.scoring.ScoringStage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ScoringMetricsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ScoringMetrics metrics =
            new ScoringMetrics(registry, new PrometheusRegistry(), new DeltaMetrics(registry));
    private final ModelLoader loader = TestModelLoader.of(EmbeddingStoreFactory.mappedFiles(), TestModelLoader.PARITY_ONLY);
    /** Two copies of one bundle: the one serving and the one reloaded in place, under the same version. */
    private LoadedModel replaced;
    private LoadedModel reloaded;
    private String version;

    @BeforeEach
    void loadTwoCopiesOfOneVersion() {
        replaced = loader.load(TestBundle.directory());
        reloaded = loader.load(TestBundle.directory());
        version = reloaded.manifest().model().version();
    }

    @AfterEach
    void close() {
        replaced.close();
        reloaded.close();
    }

    /** A bundle reloaded in place keeps its version: the copy it replaces drains and closes after it serves. */
    @Test
    void aVersionReloadedInPlaceKeepsItsMetersWhenTheReplacedCopyCloses() {
        metrics.published("stem-net", replaced);
        metrics.published("stem-net", reloaded);
        metrics.retired(replaced);
        metrics.closed(replaced);

        metrics.of(reloaded).record(ScoringStage.RUN, 1_000);

        assertThat(runTimer()).as("the run stage timer is still registered").isNotNull();
        assertThat(runTimer().count()).isEqualTo(1);
        assertThat(registry.find("stem.runtime.device.info").tag("version", version).gauges()).hasSize(1);
        Gauge sequence = registry.find("stem.delta.sequence").tag("version", version).gauge();
        assertThat(sequence).isNotNull();
        assertThat(sequence.value()).isEqualTo(reloaded.scorer().embeddings().sequence());

        metrics.retired(reloaded);
        metrics.closed(reloaded);

        assertThat(registry.find("stem.stage").tag("version", version).meters()).isEmpty();
        assertThat(registry.find("stem.runtime.device.info").tag("version", version).meters()).isEmpty();
        assertThat(registry.find("stem.delta.sequence").tag("version", version).meters()).isEmpty();
    }

    /**
     * The registry hands out the gauge it has for an id, bound to the object it was first built with: a reloaded copy
     * must register gauges of its own, or they keep reading the copy it replaced (closed, and no longer given deltas).
     */
    @Test
    void theDeltaGaugesOfAReloadedVersionAreBuiltAnew() {
        metrics.published("stem-net", replaced);
        Gauge ofReplaced = registry.find("stem.delta.sequence").tag("version", version).gauge();
        metrics.published("stem-net", reloaded);

        assertThat(registry.find("stem.delta.sequence").tag("version", version).gauges())
                .singleElement().isNotSameAs(ofReplaced);
        assertThat(registry.find("stem.vocabulary.size").tag("version", version).gauges())
                .isNotEmpty().allSatisfy(gauge -> assertThat(gauge.value()).isPositive());
    }

    private Timer runTimer() {
        return registry.find("stem.stage").tag("version", version).tag("stage", ScoringStage.RUN.label()).timer();
    }
}
