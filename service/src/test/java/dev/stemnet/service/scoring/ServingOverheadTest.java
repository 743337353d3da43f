package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When the bench's warm-up of an HTTP side ends: once the service's JIT has settled. */
class ServingOverheadTest {

    @Test
    void theWarmUpGoesOnWhileTheJitTakesTheThresholdOrMoreAndNeverWhenTheThresholdIsZero() {
        var compiling = new PhaseResult(100, new long[0], 0, 12.0, 10.0, 8.0, 0.5);
        var settled = new PhaseResult(100, new long[0], 0, 12.0, 10.0, 8.0, 0.05);

        assertThat(ServingOverhead.jitStillCompiling(compiling, 0.01)).isTrue();
        assertThat(ServingOverhead.jitStillCompiling(settled, 0.01)).isFalse();
        // -Dstem.bench.warmup-until-jit-below=0 is a fixed warm-up, even with nothing compiling (a share of 0).
        assertThat(ServingOverhead.jitStillCompiling(compiling, 0)).isFalse();
        var idle = new PhaseResult(100, new long[0], 0, 12.0, 10.0, 8.0, 0.0);
        assertThat(ServingOverhead.jitStillCompiling(idle, 0)).isFalse();
    }
}
