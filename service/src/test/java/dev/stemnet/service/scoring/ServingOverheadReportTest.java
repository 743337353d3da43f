package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.scoring.ServingOverhead.HeyOutput;
import org.junit.jupiter.api.Test;

/** What `make serving-overhead` reads from hey and prints per round: the figures the targets are judged on. */
class ServingOverheadReportTest {

    // hey's summary as it prints it (abridged), then bash's `times`: the shell's own CPU, then its children's (hey's).
    private static final String HEY_THEN_TIMES = """

            Summary:
              Total:\t10.0021 secs
              Requests/sec:\t1184.3512

            Status code distribution:
              [200]\t11843 responses
              [429]\t12 responses

            Error distribution:
              [3]\tPost "http://localhost:8080/v1/score": EOF

            0m0.004s 0m0.001s
            0m1.210s 0m0.250s
            """;

    @Test
    void readsTheOkCountTheFailuresTheDurationAndHeysCpuTime() {
        HeyOutput parsed = HeyOutput.parse(HEY_THEN_TIMES);

        assertThat(parsed.ok()).isEqualTo(11843);
        assertThat(parsed.errors()).isEqualTo(12 + 3);
        assertThat(parsed.seconds()).isEqualTo(10.0021);
        assertThat(parsed.clientCpuNanos()).isEqualTo(1_460_000_000L);
    }

    @Test
    void refusesAReportWithoutA200() {
        String noneServed = HEY_THEN_TIMES.replace("[200]\t11843 responses", "");

        assertThatThrownBy(() -> HeyOutput.parse(noneServed)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no 200s");
    }

    @Test
    void spreadIsTheRatioOfEachRoundOnItsOwn() {
        double[] onnxMillis = {1.20, 1.20, 1.20, 1.20};
        double[] serviceMillis = {1.50, 1.60, 1.20, 2.40};

        // Per round 0.8, 0.75, 1.0, 0.5; the median of an even count is the mean of the middle two.
        assertThat(ServingOverhead.roundSpread(onnxMillis, serviceMillis))
                .isEqualTo("onnx/service per round: min 0.500, median 0.775, max 1.000 [0.8, 0.75, 1.0, 0.5]");
    }
}
