package dev.stemnet.service.config;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.stemnet.service.inference.DeviceMode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class StemPropertiesBindingTest {

    @Test
    void bindsPerTableCacheSizesForTableNamesWithAColon() {
        StemProperties properties = bind(Map.of(
                "stem.bundle.dir", "/bundles/stem-net",
                "stem.runtime.device", "cpu",
                "stem.runtime.intra-op-threads", "2",
                "stem.runtime.optimization-level", "EXTENDED_OPT",
                "stem.cache.default-maximum-size", "1000",
                "stem.cache.tables.[task:pay].maximum-size", "5",
                "stem.scoring.max-candidates", "50"));

        assertThat(properties.bundle().dir()).isEqualTo(Path.of("/bundles/stem-net"));
        assertThat(properties.runtime().device()).isEqualTo(DeviceMode.CPU);
        assertThat(properties.runtime().optimizationLevel()).isEqualTo(OptLevel.EXTENDED_OPT);
        assertThat(properties.cache().maximumSizeOf("task:pay")).isEqualTo(5);
        assertThat(properties.cache().maximumSizeOf("shared")).isEqualTo(1000);
        assertThat(properties.scoring().maxCandidates()).isEqualTo(50);
    }

    private static StemProperties bind(Map<String, String> values) {
        return new Binder(new MapConfigurationPropertySource(values)).bind("stem", StemProperties.class).get();
    }
}
