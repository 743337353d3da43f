package dev.stemnet.service.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.bundle.Manifest.TableField;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The race a delta's eviction must win: a request fetched a row before the delta loader overwrote it in Redis, the
 * replica evicted the row, and only then does the request's old value come back. It serves that request (which began
 * before the delta), but must not stay in the cache.
 */
class CacheRaceGuardTest {

    private static final int DIM = 2;
    private static final List<TableSpec> TABLES =
            List.of(new TableSpec("shared", "tables/shared.f32", 100, DIM, List.of(new TableField("f", 0))));

    /** Row r holds {r, version}; a fetch of a held row waits for the test to let it go. */
    private static final class ChangingStore implements EmbeddingStore {
        final List<String> calls = new ArrayList<>();
        volatile float version = 1;
        volatile CountDownLatch fetchStarted = new CountDownLatch(1);
        volatile CountDownLatch release = new CountDownLatch(0);
        final List<long[]> rowsWritten = new ArrayList<>();

        @Override
        public void fetchRows(String table, long[] rows, float[] destination) {
            float value = version;
            synchronized (calls) {
                calls.add(Arrays.toString(rows));
            }
            fetchStarted.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (int i = 0; i < rows.length; i++) {
                destination[i * DIM] = rows[i];
                destination[i * DIM + 1] = value;
            }
        }

        @Override
        public void rowsWritten(String table, long rowCount, long[] changedRows) {
            rowsWritten.add(changedRows);
        }
    }

    private final ChangingStore delegate = new ChangingStore();
    private final CachingEmbeddingStore store = new CachingEmbeddingStore(delegate, TABLES,
            new CacheSettings(1000, Map.of()), new SimpleMeterRegistry(), Tags.of("model", "m", "version", "v1"));

    @Test
    void aRowFetchedBeforeTheDeltaAndReturnedAfterItsEvictionIsNotCached() throws Exception {
        delegate.release = new CountDownLatch(1);
        CompletableFuture<float[]> slowRequest = CompletableFuture.supplyAsync(() -> fetch(7));
        assertThat(delegate.fetchStarted.await(10, TimeUnit.SECONDS)).isTrue();

        // The loader writes the row anew; the replica hears of it and evicts while the request is still out.
        delegate.version = 2;
        store.rowsWritten("shared", 100, new long[] {7});
        delegate.release.countDown();

        assertThat(slowRequest.get(10, TimeUnit.SECONDS)).as("the request that began before the delta").containsExactly(7, 1);
        assertThat(fetch(7)).as("the next request reads the new row, not a cached old one").containsExactly(7, 2);
        assertThat(delegate.calls).hasSize(2);
        assertThat(delegate.rowsWritten).singleElement().satisfies(rows -> assertThat(rows).containsExactly(7));
    }

    @Test
    void aCachedRowIsEvictedWhenADeltaChangesIt() {
        assertThat(fetch(7)).containsExactly(7, 1);
        assertThat(fetch(7)).containsExactly(7, 1);
        assertThat(delegate.calls).as("the second fetch was a hit").hasSize(1);

        delegate.version = 2;
        store.rowsWritten("shared", 100, new long[] {7});

        assertThat(fetch(7)).containsExactly(7, 2);
        assertThat(fetch(7)).as("cached again once fetched after the delta").containsExactly(7, 2);
        assertThat(delegate.calls).hasSize(2);
    }

    private float[] fetch(long row) {
        float[] destination = new float[DIM];
        store.fetchRows("shared", new long[] {row}, destination);
        return destination;
    }
}
