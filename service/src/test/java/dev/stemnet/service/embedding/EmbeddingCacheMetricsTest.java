package dev.stemnet.service.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.ParityRequests;
import dev.stemnet.service.PrometheusScrape;
import dev.stemnet.service.RunningServiceTest;
import dev.stemnet.service.TestBundle;
import dev.stemnet.service.embedding.redis.RedisServiceProperties;
import dev.stemnet.service.embedding.redis.TestRedis;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Each table's row cache in front of the Redis store is visible at {@code /actuator/prometheus}, tagged with model,
 * version and table.
 */
class EmbeddingCacheMetricsTest extends RunningServiceTest {

    @DynamicPropertySource
    static void readRowsFromRedis(DynamicPropertyRegistry registry) {
        RedisServiceProperties.useRedisStore(registry, TestRedis.shared());
    }

    @Test
    void publishesEachTablesCacheStatisticsAndTheyFollowRequests() {
        JsonNode manifest = JsonMapper.builder().build().readTree(TestBundle.directory().resolve("manifest.json"));
        String version = manifest.get("model").get("version").asString();
        PrometheusScrape before = scrapeMetrics();

        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(ParityRequests.request(0))
                .exchange().expectStatus().isOk();

        PrometheusScrape after = scrapeMetrics();
        for (JsonNode table : manifest.get("tables")) {
            Map<String, String> labels = Map.of("cache", "stem.embedding.rows", "model", "stem-net",
                    "version", version, "table", table.get("name").asString());
            assertThat(after.sum("cache_gets_total", labels))
                    .as("lookups in the cache of table %s", table.get("name"))
                    .isGreaterThan(before.sum("cache_gets_total", labels));
            assertThat(after.has("cache_evictions_total", labels)).isTrue();
            assertThat(after.has("cache_load_duration_seconds", labels)).isTrue();
            assertThat(after.has("cache_gets_total", with(labels, "result", "hit"))).isTrue();
            assertThat(after.has("cache_gets_total", with(labels, "result", "miss"))).isTrue();
        }
    }

    private static Map<String, String> with(Map<String, String> labels, String key, String value) {
        var extended = new HashMap<>(labels);
        extended.put(key, value);
        return extended;
    }
}
