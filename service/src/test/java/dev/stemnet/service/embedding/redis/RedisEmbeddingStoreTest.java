package dev.stemnet.service.embedding.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.embedding.EmbeddingStoreUnavailableException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Redis store and its loader against a real Redis server. */
class RedisEmbeddingStoreTest {

    private static final ModelBundle BUNDLE = RedisTestBundles.testBundle();
    private static RedisConnection redis;

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    @BeforeAll
    static void loadTheTestBundle() {
        redis = RedisConnection.open(new RedisSettings(TestRedis.shared().uri(), false, Duration.ofSeconds(2)));
        new RedisBundleLoader(redis).load(BUNDLE);
    }

    @AfterAll
    static void disconnect() {
        redis.close();
    }

    @Test
    void servesEveryRowOfEveryTableAsTheBundleFileHoldsIt() {
        RedisEmbeddingStore store = openStore(BUNDLE);
        for (TableSpec table : BUNDLE.manifest().tables()) {
            float[] fromRedis = new float[Math.toIntExact(table.rows() * table.dim())];
            store.fetchRows(table.name(), RedisTestBundles.allRowNumbers(table), fromRedis);
            assertThat(fromRedis).as("table %s", table.name()).containsExactly(RedisTestBundles.allRows(BUNDLE, table));
        }
    }

    @Test
    void fetchesTheRowsOfOneCallWithOneMget() {
        TableSpec table = BUNDLE.manifest().tables().get(0);
        RedisEmbeddingStore store = openStore(BUNDLE);
        long[] rows = {0, 3, 5, 8, 13, table.rows() - 1};
        long mgetsBefore = TestRedis.shared().calls("mget");

        store.fetchRows(table.name(), rows, new float[rows.length * table.dim()]);

        assertThat(TestRedis.shared().calls("mget") - mgetsBefore).isEqualTo(1);
    }

    @Test
    void keepsTwoVersionsOfAModelSideBySide(@TempDir Path directory) {
        TableSpec negated = BUNDLE.manifest().tables().get(0);
        ModelBundle otherVersion = RedisTestBundles.otherVersion(directory, "other-version", negated);
        new RedisBundleLoader(redis).load(otherVersion);

        float[] original = readAll(openStore(BUNDLE), negated);
        float[] other = readAll(openStore(otherVersion), negated);

        float[] expectedOther = RedisTestBundles.allRows(BUNDLE, negated);
        for (int i = 0; i < expectedOther.length; i++) {
            expectedOther[i] = -expectedOther[i];
        }
        assertThat(original).containsExactly(RedisTestBundles.allRows(BUNDLE, negated));
        assertThat(other).containsExactly(expectedOther);
    }

    @Test
    void loadingTheSameBundleAgainWritesNoOtherKeys() {
        RedisKeyLayout keys = RedisTestBundles.layoutOf(BUNDLE);
        String pattern = "stem:" + keys.model() + ":" + keys.version() + ":*";
        long rows = BUNDLE.manifest().tables().stream().mapToLong(TableSpec::rows).sum();

        var loaded = new RedisBundleLoader(redis).load(BUNDLE);

        assertThat(loaded).extracting(RedisBundleLoader.LoadedTable::name)
                .containsExactlyElementsOf(BUNDLE.manifest().tables().stream().map(TableSpec::name).toList());
        assertThat(redis.commands().keys(pattern)).as("one key per row plus the tables hash").hasSize((int) rows + 1);
    }

    @Test
    void refusesAVersionTheLoaderHasNotCompleted() {
        RedisKeyLayout neverLoaded = new RedisKeyLayout(BUNDLE.manifest().model().name(), "never-loaded");

        assertThatThrownBy(() -> new RedisEmbeddingStore(redis, neverLoaded, BUNDLE.manifest().tables(), meters))
                .isInstanceOfSatisfying(EmbeddingStoreUnavailableException.class,
                        e -> assertThat(e.reason()).isEqualTo("not_loaded"))
                .hasMessageContaining("never-loaded")
                .hasMessageContaining("--stem.embedding.redis.load-bundle");
    }

    @Test
    void failsOnAMissingRowOrARowOfTheWrongLengthAndCountsIt() {
        TableSpec table = BUNDLE.manifest().tables().get(0);
        RedisKeyLayout damaged = new RedisKeyLayout(BUNDLE.manifest().model().name(), "damaged");
        copyTablesHash(RedisTestBundles.layoutOf(BUNDLE), damaged);
        redis.commands().set(damaged.rowKey(table.name(), 1), new byte[table.dim() * Float.BYTES - 1]);
        RedisEmbeddingStore store = new RedisEmbeddingStore(redis, damaged, BUNDLE.manifest().tables(), meters);

        assertThatThrownBy(() -> store.fetchRows(table.name(), new long[] {2}, new float[table.dim()]))
                .isInstanceOfSatisfying(EmbeddingStoreUnavailableException.class,
                        e -> assertThat(e.reason()).isEqualTo("missing_row"));
        assertThatThrownBy(() -> store.fetchRows(table.name(), new long[] {1}, new float[table.dim()]))
                .isInstanceOfSatisfying(EmbeddingStoreUnavailableException.class,
                        e -> assertThat(e.reason()).isEqualTo("wrong_length"));
        assertThat(errors(table, "missing_row")).isEqualTo(1);
        assertThat(errors(table, "wrong_length")).isEqualTo(1);
    }

    private void copyTablesHash(RedisKeyLayout from, RedisKeyLayout to) {
        Map<byte[], byte[]> shapes = redis.commands().hgetall(from.tablesKey());
        redis.commands().hset(to.tablesKey(), shapes);
    }

    private double errors(TableSpec table, String reason) {
        return meters.get("stem.embedding.store.errors")
                .tags("store", "redis", "table", table.name(), "reason", reason)
                .counter().count();
    }

    private RedisEmbeddingStore openStore(ModelBundle bundle) {
        return new RedisEmbeddingStore(redis, RedisTestBundles.layoutOf(bundle), bundle.manifest().tables(), meters);
    }

    private static float[] readAll(RedisEmbeddingStore store, TableSpec table) {
        float[] rows = new float[Math.toIntExact(table.rows() * table.dim())];
        store.fetchRows(table.name(), RedisTestBundles.allRowNumbers(table), rows);
        return rows;
    }
}
