package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PhaseResultTest {

    @Test
    void theJitShareIsOfTheServicesCpuAndNoneForTheSidesInThisProcess() {
        var compiling = new PhaseResult(100, new long[0], 0, 12.0, 10.0, 8.0, 0.5);
        var inProcess = new PhaseResult(100, new long[0], 0, 12.0, 0.0, Double.NaN, Double.NaN);

        assertThat(compiling.jitShare()).isEqualTo(0.05);
        assertThat(inProcess.jitShare()).isZero();
    }

    @Test
    void aPercentileIsTheLatencyAtOrBelowWhichThatShareOfRequestsFinished() {
        long[] millis = {5, 1, 4, 2, 3, 10, 7, 6, 9, 8};
        PhaseResult phase = PhaseResult.latencies(10, Arrays.stream(millis).map(m -> m * 1_000_000).toArray(), 0);

        assertThat(phase.percentileMillis(50)).isEqualTo(5.0);
        assertThat(phase.percentileMillis(99)).isEqualTo(10.0);
        assertThat(PhaseResult.latencies(10, new long[0], 0).percentileMillis(50)).isNaN();
    }
}
