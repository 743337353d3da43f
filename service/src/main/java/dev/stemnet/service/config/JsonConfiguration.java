package dev.stemnet.service.config;

import dev.stemnet.service.metrics.ModelMeters;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.StreamWriteFeature;

/** Adjusts the JSON mapper Spring Boot builds for the HTTP API. */
@Configuration(proxyBeanMethods = false)
class JsonConfiguration {

    /**
     * Floats and doubles written with Schubfach instead of {@code Float.toString} and {@code Double.toString}: a
     * 200-candidate response holds 600 probabilities, and Java 17's {@code Double.toString} was the largest single
     * cost of writing it. Both print a decimal that reads back to the very same value; Schubfach's is the shortest
     * such, while Java 17's is now and then a digit longer. The scores are written as floats (TaskScores).
     */
    @Bean
    JsonMapperBuilderCustomizer fastDoubleWriter() {
        return builder -> builder.enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER);
    }

    /**
     * A key given twice is refused (400) rather than the last one silently winning: {@code {"userId": "a",
     * "userId": "b"}} is a client bug either way. Unknown keys of a score request follow
     * {@code stem.scoring.unknown-features} ({@link UnknownRequestKeys}).
     */
    @Bean
    JsonMapperBuilderCustomizer strictRequestKeys(StemProperties properties, MeterRegistry registry) {
        UnknownRequestKeys unknownKeys = new UnknownRequestKeys(properties.scoring().unknownFeatures(),
                ModelMeters.unknownRequestKeys(registry));
        return builder -> builder.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).addHandler(unknownKeys);
    }
}
