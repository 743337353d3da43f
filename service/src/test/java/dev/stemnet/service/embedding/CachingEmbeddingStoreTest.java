package dev.stemnet.service.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.bundle.Manifest.TableField;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CachingEmbeddingStoreTest {

    private static final int DIM = 2;
    private static final List<TableSpec> TABLES = List.of(
            new TableSpec("shared", "tables/shared.f32", 100, DIM, List.of(new TableField("f", 0))),
            new TableSpec("task:pay", "tables/task_pay.f32", 100, DIM, List.of(new TableField("f", 0))));

    /** Row r of any table holds {r, -r}; remembers every call. */
    private static final class RecordingStore implements EmbeddingStore {
        final List<String> calls = new ArrayList<>();

        @Override
        public void fetchRows(String table, long[] rows, float[] destination) {
            long[] sorted = rows.clone();
            Arrays.sort(sorted);
            calls.add(table + Arrays.toString(sorted));
            for (int i = 0; i < rows.length; i++) {
                destination[i * DIM] = rows[i];
                destination[i * DIM + 1] = -rows[i];
            }
        }
    }

    private final RecordingStore delegate = new RecordingStore();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final CachingEmbeddingStore store = new CachingEmbeddingStore(
            delegate, TABLES, new CacheSettings(1000, Map.of()), meters, Tags.of("model", "m", "version", "v1"));

    @Test
    void servesRepeatedRowsFromTheCache() {
        float[] first = new float[2 * DIM];
        float[] second = new float[3 * DIM];

        store.fetchRows("shared", new long[] {4, 9}, first);
        store.fetchRows("shared", new long[] {9, 4, 5}, second);

        assertThat(first).containsExactly(4, -4, 9, -9);
        assertThat(second).containsExactly(9, -9, 4, -4, 5, -5);
        assertThat(delegate.calls).containsExactly("shared[4, 9]", "shared[5]");
        assertThat(store.stats("shared").hitCount()).isEqualTo(2);
        assertThat(store.stats("shared").missCount()).isEqualTo(3);
    }

    @Test
    void keepsOneCachePerTable() {
        store.fetchRows("shared", new long[] {1}, new float[DIM]);
        store.fetchRows("task:pay", new long[] {1}, new float[DIM]);

        assertThat(delegate.calls).containsExactly("shared[1]", "task:pay[1]");
        assertThat(store.stats("shared").missCount()).isEqualTo(1);
        assertThat(store.stats("task:pay").missCount()).isEqualTo(1);
    }

    @Test
    void publishesEachTablesStatisticsAsMetersUntilClosed() {
        store.fetchRows("task:pay", new long[] {3, 4}, new float[2 * DIM]);
        store.fetchRows("task:pay", new long[] {3}, new float[DIM]);

        assertThat(gets("task:pay", "miss")).isEqualTo(2);
        assertThat(gets("task:pay", "hit")).isEqualTo(1);
        assertThat(gets("shared", "miss")).isZero();
        assertThat(meters.get("cache.load").tags("table", "task:pay", "result", "success")
                .functionCounter().count()).as("one bulk load for both misses").isEqualTo(1);
        assertThat(meters.get("cache.load.duration").tags("table", "task:pay").timeGauge().value()).isPositive();

        store.close();

        assertThat(meters.find("cache.gets").tags("model", "m").meters()).isEmpty();
    }

    @Test
    void aFailedLoadIsCountedCachesNothingAndReachesTheCaller() {
        EmbeddingStore down = (table, rows, destination) -> {
            throw new EmbeddingStoreUnavailableException("redis", table, "timeout", "no answer in 50 ms", null);
        };
        CachingEmbeddingStore failing = new CachingEmbeddingStore(
                down, TABLES, new CacheSettings(1000, Map.of()), new SimpleMeterRegistry(), Tags.empty());

        assertThatThrownBy(() -> failing.fetchRows("shared", new long[] {1, 2}, new float[2 * DIM]))
                .isInstanceOf(EmbeddingStoreUnavailableException.class);
        assertThatThrownBy(() -> failing.fetchRows("shared", new long[] {1}, new float[DIM]))
                .as("nothing was cached").isInstanceOf(EmbeddingStoreUnavailableException.class);
        assertThat(failing.stats("shared").loadFailureCount()).isEqualTo(2);
        assertThat(failing.stats("shared").missCount()).isEqualTo(3);
        assertThat(failing.stats("shared").loadSuccessCount()).isZero();
    }

    private double gets(String table, String result) {
        return meters.get("cache.gets")
                .tags("cache", CachingEmbeddingStore.CACHE_NAME, "model", "m", "version", "v1", "table", table,
                        "result", result)
                .functionCounter().count();
    }

    @Test
    void aStoreOpenedAgainForTheSameVersionTakesTheMetersOverAndKeepsThemWhenTheOldOneCloses() {
        CachingEmbeddingStore reloaded = new CachingEmbeddingStore(
                new RecordingStore(), TABLES, new CacheSettings(1000, Map.of()), meters, Tags.of("model", "m", "version", "v1"));
        store.fetchRows("shared", new long[] {1}, new float[DIM]);
        reloaded.fetchRows("shared", new long[] {1, 2, 3}, new float[3 * DIM]);

        store.close();

        assertThat(gets("shared", "miss")).as("misses of the store opened last").isEqualTo(3);
        reloaded.close();
        assertThat(meters.find("cache.gets").meters()).isEmpty();
    }
}
