package dev.stemnet.service.embedding.redis;

import dev.stemnet.service.TestBundle;
import java.nio.file.Path;
import org.springframework.test.context.DynamicPropertyRegistry;

/** Points a test's service at a Redis that holds the test bundle. */
public final class RedisServiceProperties {

    private RedisServiceProperties() {}

    /** Loads the test bundle into {@code redis} and has the service read its rows from there. */
    public static void useRedisStore(DynamicPropertyRegistry registry, TestRedis redis) {
        loadTestBundle(redis);
        registry.add("stem.embedding.store", () -> "redis");
        registry.add("stem.embedding.redis.uri", redis::uri);
    }

    static void loadTestBundle(TestRedis redis) {
        loadBundles(redis, TestBundle.directory());
    }

    /** Checks the bundles in {@code directories} and loads each into {@code redis} under its model name and version. */
    public static void loadBundles(TestRedis redis, Path... directories) {
        try (RedisConnection connection = RedisConnection.open(
                new RedisSettings(redis.uri(), false, TestRedis.START_DEADLINE))) {
            for (Path directory : directories) {
                new RedisBundleLoader(connection).load(RedisTestBundles.checked(directory));
            }
        }
    }
}
