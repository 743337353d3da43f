package dev.stemnet.service.embedding.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.ModelBundle;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The loader and the store through Lettuce's cluster client, against a real three-node Redis Cluster. */
class RedisClusterStoreTest {

    private static final ModelBundle BUNDLE = RedisTestBundles.testBundle();
    private static TestRedisCluster cluster;
    private static RedisConnection redis;

    @BeforeAll
    static void loadTheTestBundleIntoACluster() {
        cluster = new TestRedisCluster();
        redis = RedisConnection.open(new RedisSettings(cluster.uri(), true, Duration.ofSeconds(2)));
        new RedisBundleLoader(redis).load(BUNDLE);
    }

    @AfterAll
    static void stopTheCluster() {
        if (redis != null) {
            redis.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void servesEveryRowOfEveryTableFromRowsSpreadOverEveryNode() {
        RedisEmbeddingStore store = new RedisEmbeddingStore(
                redis, RedisTestBundles.layoutOf(BUNDLE), BUNDLE.manifest().tables(), new SimpleMeterRegistry());

        for (TableSpec table : BUNDLE.manifest().tables()) {
            float[] fromRedis = new float[Math.toIntExact(table.rows() * table.dim())];
            store.fetchRows(table.name(), RedisTestBundles.allRowNumbers(table), fromRedis);
            assertThat(fromRedis).as("table %s", table.name()).containsExactly(RedisTestBundles.allRows(BUNDLE, table));
        }
        for (TestRedis node : cluster.nodes()) {
            assertThat(Long.parseLong(TestRedis.RespClient.call(node.host(), node.port(), "DBSIZE")))
                    .as("keys on node %s", node.uri()).isPositive();
        }
    }
}
