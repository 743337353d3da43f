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

    @Test
    void sumsTheNetworksCpuOverEveryModelVersionAndNothingElse() {
        String scrape = """
                # HELP stem_network_cpu_seconds_total CPU time of the serving threads inside the network
                # TYPE stem_network_cpu_seconds_total counter
                stem_network_cpu_seconds_total{model="stem-net",version="v1"} 12.5
                stem_network_cpu_seconds_total{model="stem-net",version="v2"} 0.25
                stem_network_cpu_seconds_totally_else 99
                stem_stage_seconds_sum{model="stem-net",stage="run"} 40.0
                """;

        assertThat(ServingOverhead.networkCpuSeconds(scrape)).isEqualTo(12.75);
    }

    @Test
    void splitsTheServicesCpuIntoOnnxRuntimeAndTheRest() {
        assertThat(ServingOverhead.networkShare(1.60, 2.00, 1.70))
                .isEqualTo("service 2.00 ms/req = ONNX Runtime 1.70 + the rest 0.30; ONNX Runtime in the service / bare: 1.063");
        assertThat(ServingOverhead.networkShare(1.60, 2.00, Double.NaN)).startsWith("no split");
    }

    @Test
    void theJitShareIsOfTheServicesCpuAndNoneForTheSidesInThisProcess() {
        var compiling = new ServingOverhead.Result(100, new long[0], 0, 12.0, 10.0, 8.0, 0.5);
        var inProcess = new ServingOverhead.Result(100, new long[0], 0, 12.0, 0.0, Double.NaN, Double.NaN);

        assertThat(ServingOverhead.jitShare(compiling)).isEqualTo(0.05);
        assertThat(ServingOverhead.jitShare(inProcess)).isZero();
    }
}
