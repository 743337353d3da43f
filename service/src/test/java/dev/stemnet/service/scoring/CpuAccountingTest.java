package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CpuAccountingTest {

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

        assertThat(CpuAccounting.networkCpuSeconds(scrape)).isEqualTo(12.75);
    }
}
