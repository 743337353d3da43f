package dev.stemnet.service.embedding.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisCommandTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RedisConnectionTest {

    /** The serving deadline; Redis holds the command below twice as long before it answers. */
    private static final RedisSettings SERVING = new RedisSettings(TestRedis.shared().uri(), false, Duration.ofMillis(250));
    private static final byte[] EMPTY_LIST = "redis-connection-test:never-pushed".getBytes(StandardCharsets.UTF_8);

    @Test
    void aServingConnectionGivesUpAtTheServingDeadline() {
        try (RedisConnection serving = RedisConnection.open(SERVING)) {
            assertThatThrownBy(() -> serving.commands().blpop(0.5, EMPTY_LIST))
                    .isInstanceOf(RedisCommandTimeoutException.class);
        }
    }

    @Test
    void aLoaderWaitsLongerThanAServingRequestMay() {
        try (RedisConnection loader = RedisConnection.openForLoader(SERVING)) {
            assertThat(loader.commands().blpop(0.5, EMPTY_LIST)).as("BLPOP's own timeout, not the client's").isNull();
        }
    }
}
