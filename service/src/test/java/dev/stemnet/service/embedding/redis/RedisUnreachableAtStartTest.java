package dev.stemnet.service.embedding.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.ParityRequests;
import dev.stemnet.service.Polling;
import dev.stemnet.service.ServiceOverHttp;
import dev.stemnet.service.TestBundle;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.http.MediaType;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The service started while nothing listens at its Redis address: it starts, stays not ready saying it waits for
 * the store, and becomes ready by itself once a Redis there holds the bundle's rows.
 */
@ExtendWith(OutputCaptureExtension.class)
// Its Redis is gone after the test: no other test may get this context.
@DirtiesContext
class RedisUnreachableAtStartTest extends ServiceOverHttp {

    private static final String TOKEN = "redis-at-start-token";
    private static final int REDIS_PORT = TestRedis.freePort();
    private static final String STORE = "Redis 127.0.0.1:" + REDIS_PORT;
    private static final Duration DEADLINE = Duration.ofSeconds(90);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry properties) {
        properties.add("stem.models.repository", () -> TestBundle.repository().toString());
        properties.add("stem.admin.token", () -> TOKEN);
        properties.add("stem.embedding.store", () -> "redis");
        properties.add("stem.embedding.redis.uri", () -> "redis://127.0.0.1:" + REDIS_PORT);
    }

    /** The test starts while the service is up but not ready. */
    @Override
    protected boolean isReady() {
        return management.get().uri("/actuator/health/liveness").exchange().returnResult().getStatus().value() == 200;
    }

    @Test
    void startsNotReadyNamingTheStoreAndBecomesReadyOnceRedisAnswers(CapturedOutput output) {
        management.get().uri("/actuator/health/readiness").exchange().expectStatus().isEqualTo(503)
                .expectBody().jsonPath("$.components.embeddingStore.status").isEqualTo("OUT_OF_SERVICE");
        assertThat(Polling.until(DEADLINE, () -> outcomeOfLastAttempt().equals("WAITING_FOR_STORE")))
                .as("the model waits for the store instead of being rejected").isTrue();
        JsonNode status = adminStatus();
        assertThat(status.get("embeddingStore").get("store").asString()).isEqualTo(STORE);
        assertThat(status.get("embeddingStore").get("state").asString()).isEqualTo("UNREACHABLE");
        assertThat(status.get("lastAttempts").get(0).get("error").asString()).contains(STORE);
        assertThat(output.getAll()).contains("Cannot reach " + STORE);
        score().expectStatus().isEqualTo(503);

        try (TestRedis redis = TestRedis.startOnPort(REDIS_PORT)) {
            RedisServiceProperties.loadTestBundle(redis);

            assertThat(Polling.until(DEADLINE, () -> ServiceOverHttp.isReady(management))).as("ready by itself").isTrue();
            score().expectStatus().isOk();
            management.get().uri("/actuator/health/readiness").exchange().expectStatus().isOk()
                    .expectBody().jsonPath("$.components.embeddingStore.status").isEqualTo("UP");
        }
    }

    private RestTestClient.ResponseSpec score() {
        return client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(ParityRequests.request(0))
                .exchange();
    }

    private String outcomeOfLastAttempt() {
        JsonNode attempts = adminStatus().get("lastAttempts");
        return attempts.isEmpty() ? "none yet" : attempts.get(0).get("outcome").asString();
    }

    private JsonNode adminStatus() {
        String body = management.get().uri("/actuator/models").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();
        return JSON.readTree(body);
    }
}
