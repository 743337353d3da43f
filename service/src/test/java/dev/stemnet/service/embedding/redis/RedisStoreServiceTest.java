package dev.stemnet.service.embedding.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.ParityRequests;
import dev.stemnet.service.RunningServiceTest;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The service reading rows from Redis with caches of size 0, so that every row of every request goes to Redis. */
class RedisStoreServiceTest extends RunningServiceTest {

    @DynamicPropertySource
    static void readEveryRowFromRedis(DynamicPropertyRegistry registry) {
        RedisServiceProperties.useRedisStore(registry, TestRedis.shared());
        registry.add("stem.cache.default-maximum-size", () -> "0");
    }

    @Test
    void oneRequestSendsOneMgetPerTable() {
        int tables = RedisTestBundles.testBundle().manifest().tables().size();
        long mgetsBefore = TestRedis.shared().calls("mget");

        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(ParityRequests.request(1))
                .exchange().expectStatus().isOk();

        assertThat(TestRedis.shared().calls("mget") - mgetsBefore).isEqualTo(tables);
    }
}
