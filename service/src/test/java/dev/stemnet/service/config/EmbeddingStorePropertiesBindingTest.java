package dev.stemnet.service.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.config.EmbeddingStoreProperties.StoreKind;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class EmbeddingStorePropertiesBindingTest {

    @Test
    void defaultsToTheMappedFilesAndALocalRedis() {
        EmbeddingStoreProperties properties = bind(Map.of());

        assertThat(properties.store()).isEqualTo(StoreKind.MAPPED);
        assertThat(properties.redis().uri()).isEqualTo("redis://localhost:6379");
        assertThat(properties.redis().cluster()).isFalse();
        assertThat(properties.redis().timeout()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void bindsARedisClusterWithItsTimeout() {
        EmbeddingStoreProperties properties = bind(Map.of(
                "stem.embedding.store", "redis",
                "stem.embedding.redis.uri", "redis://redis-0.redis:6379",
                "stem.embedding.redis.cluster", "true",
                "stem.embedding.redis.timeout", "75ms"));

        assertThat(properties.store()).isEqualTo(StoreKind.REDIS);
        assertThat(properties.redis().settings().uri()).isEqualTo("redis://redis-0.redis:6379");
        assertThat(properties.redis().settings().cluster()).isTrue();
        assertThat(properties.redis().settings().timeout()).isEqualTo(Duration.ofMillis(75));
    }

    private static EmbeddingStoreProperties bind(Map<String, String> values) {
        return new Binder(new MapConfigurationPropertySource(values))
                .bindOrCreate("stem.embedding", EmbeddingStoreProperties.class);
    }
}
