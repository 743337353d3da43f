package dev.stemnet.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.scoring.UnknownFeaturePolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;
import org.springframework.util.unit.DataSize;

class ScoringWorkerThreadsTest {

    private static final StemProperties.Scoring SCORING = new StemProperties.Scoring(1000, 8, 32, 16,
            Duration.ofMillis(500), DataSize.ofMegabytes(2), UnknownFeaturePolicy.REJECT);

    @Test
    void isOneThreadPerAdmittedRequestPlusTheSpareOnes() {
        assertThat(ScoringWorkerThreads.threads(SCORING, new MockEnvironment())).isEqualTo(8 + 32 + 16);
    }

    @Test
    void zeroScoringSlotsMeansOnePerCoreTheJvmSees() {
        StemProperties.Scoring perCore = new StemProperties.Scoring(1000, 0, 32, 16, Duration.ofMillis(500),
                DataSize.ofMegabytes(2), UnknownFeaturePolicy.REJECT);
        assertThat(perCore.maxConcurrent()).isEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void refusesAnExplicitTomcatThreadCountThatWouldUndoTheArithmetic() {
        MockEnvironment environment = new MockEnvironment().withProperty("server.tomcat.threads.max", "200");
        assertThatThrownBy(() -> ScoringWorkerThreads.threads(SCORING, environment))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("server.tomcat.threads.max is derived from stem.scoring.max-concurrent");
    }
}
