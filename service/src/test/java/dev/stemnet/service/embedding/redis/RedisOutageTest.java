package dev.stemnet.service.embedding.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.ParityRequests;
import dev.stemnet.service.RunningServiceTest;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.EntityExchangeResult;

/**
 * Redis going away and coming back under a running service, on a Redis server of this class's own. The caches
 * hold no rows, so every request needs Redis. The context is closed afterwards: its server is gone by then.
 */
@DirtiesContext
class RedisOutageTest extends RunningServiceTest {

    private static final Duration COMMAND_TIMEOUT = Duration.ofMillis(300);
    /** Room for the HTTP round trip and the request's other work on a busy test machine. */
    private static final Duration SLACK = Duration.ofSeconds(1);
    private static final Duration RECOVERY_DEADLINE = Duration.ofSeconds(20);
    private static final TestRedis REDIS = TestRedis.start();

    @DynamicPropertySource
    static void readEveryRowFromOwnRedis(DynamicPropertyRegistry registry) {
        RedisServiceProperties.useRedisStore(registry, REDIS);
        registry.add("stem.cache.default-maximum-size", () -> "0");
        registry.add("stem.embedding.redis.timeout", COMMAND_TIMEOUT::toString);
    }

    @AfterAll
    static void stopRedis() {
        REDIS.close();
    }

    @AfterEach
    void leaveRedisServing() {
        REDIS.thaw();
    }

    @Test
    void answers503AtOnceWhileRedisIsDownAndRecoversOnItsOwnWhenItIsBack() {
        assertThat(score().getStatus()).isEqualTo(HttpStatus.OK);
        double errorsBefore = storeErrors();

        REDIS.stop();
        long started = System.nanoTime();
        EntityExchangeResult<String> failed = score();
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertServiceUnavailable(failed);
        assertThat(took).isLessThan(COMMAND_TIMEOUT.plus(SLACK));
        assertThat(storeErrors()).isGreaterThan(errorsBefore);

        REDIS.restart();
        // A local server comes back empty: the operator's step, loading the bundle again, is part of recovery.
        RedisServiceProperties.loadTestBundle(REDIS);
        assertThat(firstSuccessWithin(RECOVERY_DEADLINE)).as("a request succeeds again without a restart").isTrue();
    }

    @Test
    void answers503WithinTheTimeoutWhileRedisDoesNotAnswer() {
        assertThat(score().getStatus()).isEqualTo(HttpStatus.OK);
        double timeoutsBefore = storeErrors("timeout");

        REDIS.freeze();
        long started = System.nanoTime();
        EntityExchangeResult<String> failed = score();
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        REDIS.thaw();

        assertServiceUnavailable(failed);
        assertThat(took).isBetween(COMMAND_TIMEOUT, COMMAND_TIMEOUT.plus(SLACK));
        assertThat(storeErrors("timeout")).isEqualTo(timeoutsBefore + 1);
        assertThat(firstSuccessWithin(RECOVERY_DEADLINE)).isTrue();
    }

    private static void assertServiceUnavailable(EntityExchangeResult<String> result) {
        assertThat(result.getStatus()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
        assertThat(result.getResponseHeaders().getContentType()).isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
        assertThat(result.getResponseBody()).contains("\"status\":503").contains("retry later");
    }

    private boolean firstSuccessWithin(Duration deadline) {
        long end = System.nanoTime() + deadline.toNanos();
        while (System.nanoTime() < end) {
            if (score().getStatus() == HttpStatus.OK) {
                return true;
            }
            TestRedis.pause(Duration.ofMillis(100));
        }
        return false;
    }

    private EntityExchangeResult<String> score() {
        return client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(ParityRequests.request(2))
                .exchange().expectBody(String.class).returnResult();
    }

    private double storeErrors(String reason) {
        return scrapeMetrics().sum("stem_embedding_store_errors_total", Map.of("store", "redis", "reason", reason));
    }

    private double storeErrors() {
        return scrapeMetrics().sum("stem_embedding_store_errors_total", Map.of("store", "redis"));
    }
}
