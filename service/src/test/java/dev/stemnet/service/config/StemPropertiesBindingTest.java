package dev.stemnet.service.config;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.stemnet.service.inference.DeviceMode;
import dev.stemnet.service.scoring.UnknownFeaturePolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.util.unit.DataSize;

class StemPropertiesBindingTest {

    @Test
    void bindsPerTableCacheSizesForTableNamesWithAColon() {
        StemProperties properties = bind(Map.ofEntries(
                Map.entry("stem.models.repository", "/models"),
                Map.entry("stem.models.default", "stem-net"),
                Map.entry("stem.models.watch-debounce", "2s"),
                Map.entry("stem.runtime.device", "cpu"),
                Map.entry("stem.runtime.intra-op-threads", "2"),
                Map.entry("stem.runtime.optimization-level", "EXTENDED_OPT"),
                Map.entry("stem.cache.default-maximum-size", "1000"),
                Map.entry("stem.cache.tables.[task:pay].maximum-size", "5"),
                Map.entry("stem.scoring.max-candidates", "50"),
                Map.entry("stem.scoring.max-concurrent", "4"),
                Map.entry("stem.scoring.max-queued", "0"),
                Map.entry("stem.scoring.deadline", "250ms"),
                Map.entry("stem.scoring.max-body-size", "1MB"),
                Map.entry("stem.scoring.unknown-features", "ignore")));

        assertThat(properties.models().repository()).isEqualTo(Path.of("/models"));
        assertThat(properties.models().defaultModel()).isEqualTo("stem-net");
        assertThat(properties.runtime().device()).isEqualTo(DeviceMode.CPU);
        assertThat(properties.runtime().optimizationLevel()).isEqualTo(OptLevel.EXTENDED_OPT);
        assertThat(properties.cache().maximumSizeOf("task:pay")).isEqualTo(5);
        assertThat(properties.cache().maximumSizeOf("shared")).isEqualTo(1000);
        assertThat(properties.scoring().maxCandidates()).isEqualTo(50);
        assertThat(properties.scoring().deadline()).isEqualTo(Duration.ofMillis(250));
        assertThat(properties.scoring().maxBodySize()).isEqualTo(DataSize.ofMegabytes(1));
        assertThat(properties.scoring().unknownFeatures()).isEqualTo(UnknownFeaturePolicy.IGNORE);
        assertThat(properties.admin().token()).isNull();
    }

    private static StemProperties bind(Map<String, String> values) {
        return new Binder(new MapConfigurationPropertySource(values)).bind("stem", StemProperties.class).get();
    }
}
