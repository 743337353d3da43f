package dev.stemnet.service;

import dev.stemnet.service.embedding.redis.RedisServiceProperties;
import dev.stemnet.service.embedding.redis.TestRedis;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The contract test again, with every embedding row read from Redis instead of the bundle's files. */
class RedisStoreContractTest extends ContractTest {

    @DynamicPropertySource
    static void readRowsFromRedis(DynamicPropertyRegistry registry) {
        RedisServiceProperties.useRedisStore(registry, TestRedis.shared());
    }
}
