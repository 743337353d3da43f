package dev.stemnet.service.delta.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.stemnet.service.Polling;
import dev.stemnet.service.ServiceOverHttp;
import dev.stemnet.service.TestBundle;
import dev.stemnet.service.TestDelta;
import dev.stemnet.service.config.RedisDeltaCommand;
import dev.stemnet.service.embedding.redis.RedisServiceProperties;
import dev.stemnet.service.embedding.redis.TestRedis;
import dev.stemnet.service.model.ModelRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The service with the Redis store, as deployed: a delta loaded with the loader command is served over HTTP within
 * seconds, with no poll to help (the interval is an hour), and shows in {@code /v1/models}, the admin view and the
 * metrics.
 */
class RedisDeltaServiceTest extends ServiceOverHttp {

    private static final String TOKEN = "redis-delta-token";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Path REPOSITORY = TestBundle.emptyRepository("stem-redis-delta-repository");
    private static final Path BUNDLE = TestBundle.copyWithVersion(REPOSITORY.resolve("stem-net"),
            "redis-delta-service-" + UUID.randomUUID());

    @Autowired
    private ModelRegistry registry;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry properties) {
        RedisServiceProperties.loadBundles(TestRedis.shared(), BUNDLE);
        properties.add("stem.models.repository", REPOSITORY::toString);
        properties.add("stem.embedding.store", () -> "redis");
        properties.add("stem.embedding.redis.uri", TestRedis.shared()::uri);
        properties.add("stem.embedding.redis.delta-poll-interval", () -> "1h");
        properties.add("stem.admin.token", () -> TOKEN);
        properties.add("stem.warmup.requests", () -> "0");
    }

    @Override
    protected boolean isReady() {
        return registry.isServing("stem-net");
    }

    @Test
    void aDeltaLoadedIntoRedisIsServedWithinSeconds() throws Exception {
        List<String> items = List.of("served-ad", "a5", "a9");
        TestDelta delta = TestDelta.first(BUNDLE).addItem("served-ad", "a3").changeItem("a5", "a9");
        Path directory = delta.writeTo(Files.createTempDirectory("redis-delta").resolve("000001"));

        int exit = RedisDeltaCommand.run(new String[] {"--stem.embedding.redis.load-delta=" + directory,
                "--stem.embedding.redis.delta-base=" + BUNDLE, "--stem.embedding.redis.uri=" + TestRedis.shared().uri(),
                "--stem.embedding.redis.timeout=5s"});

        assertThat(exit).isZero();
        assertThat(Polling.until(Duration.ofSeconds(20), () -> publicModel().get("deltas").get("sequence").asLong() == 1))
                .as("applied on the announcement").isTrue();
        String body = client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .body(TestDelta.requestJson("r", items)).exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        List<Map<String, Double>> expected = TestDelta.expectedScores(items, delta::baseItemScoringAs);
        JsonNode results = JSON.readTree(body).get("results");
        for (int c = 0; c < items.size(); c++) {
            for (Map.Entry<String, Double> score : expected.get(c).entrySet()) {
                assertThat(results.get(c).get("scores").get(score.getKey()).asDouble())
                        .as("%s %s", items.get(c), score.getKey()).isCloseTo(score.getValue(), offset(1e-6));
            }
        }
        JsonNode version = JSON.readTree(management.get().uri("/actuator/models").header("Authorization", "Bearer " + TOKEN)
                .exchange().expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody())
                .get("versions").get(0);
        assertThat(version.get("deltas").get("appliedSequence").asLong()).isEqualTo(1);
        assertThat(version.get("deltas").get("lastAttempts").get(0).get("source").asString()).isEqualTo("redis");
        assertThat(scrapeMetrics().sum("stem_deltas_total", Map.of("outcome", "applied"))).isEqualTo(1);
    }

    private JsonNode publicModel() {
        return JSON.readTree(client.get().uri("/v1/models").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody()).get("models").get(0);
    }
}
