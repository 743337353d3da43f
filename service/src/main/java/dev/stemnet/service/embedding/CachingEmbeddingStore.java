package dev.stemnet.service.embedding;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import com.github.benmanes.caffeine.cache.stats.ConcurrentStatsCounter;
import com.github.benmanes.caffeine.cache.stats.StatsCounter;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps recently used rows in one Caffeine cache per table, so each table gets its own size and its own
 * statistics. Rows missing from the cache are fetched from the delegate in one call per request and table.
 * A hit costs one {@code getIfPresent}: no key list, no result map (Caffeine's {@code getAll} built both, ~135 kB
 * for a 200-candidate request); the misses are loaded in bulk here and recorded as one load, as {@code getAll}
 * with a bulk loader did, so the statistics stay the same.
 * Each cache's statistics are Micrometer meters ({@code cache.gets}, {@code cache.evictions},
 * {@code cache.load.duration}, ...) named {@value #CACHE_NAME} and tagged with the table, for as long as the
 * store is open.
 *
 * <p>A delta changes rows in the store underneath while requests read it ({@link #rowsWritten}): their cached copies
 * are evicted. A request that fetched a row before the delta was written may come back after the eviction with the
 * old value; putting it into the cache then would keep it there until it is evicted for size. So each table has a
 * generation, bumped before its rows are evicted, and fetched rows are put into the cache only when the generation
 * is still the one read before the fetch began.
 */
public final class CachingEmbeddingStore implements EmbeddingStore {

    static final String CACHE_NAME = "stem.embedding.rows";

    private final EmbeddingStore delegate;
    private final Map<String, TableCache> caches = new HashMap<>();
    private final MeterRegistry meterRegistry;
    private final List<Meter> meters = new ArrayList<>();

    /** @param meterTags tags every cache meter carries besides {@code table}, e.g. the model and its version */
    public CachingEmbeddingStore(EmbeddingStore delegate, List<TableSpec> tables, CacheSettings settings,
            MeterRegistry meterRegistry, Tags meterTags) {
        this.delegate = delegate;
        this.meterRegistry = meterRegistry;
        for (TableSpec table : tables) {
            // Our own counter, so that the bulk loads done in fetchRows count as loads along with hits and misses.
            // A loading cache, as Micrometer publishes load counts and load time only for one; its loader serves
            // whoever calls get(), while fetchRows loads its misses in bulk itself.
            StatsCounter stats = new ConcurrentStatsCounter();
            LoadingCache<Long, float[]> cache = Caffeine.newBuilder()
                    .maximumSize(settings.maximumSizeOf(table.name()))
                    .recordStats(() -> stats)
                    .build(row -> {
                        float[] fetched = new float[table.dim()];
                        delegate.fetchRows(table.name(), new long[] {row}, fetched);
                        return fetched;
                    });
            caches.put(table.name(), new TableCache(table.dim(), cache, stats, new AtomicLong()));
            bindMeters(cache, meterTags.and("table", table.name()));
        }
    }

    /** Wraps every store {@code backing} opens in per-table caches whose meters carry the model and version. */
    public static EmbeddingStoreFactory factory(EmbeddingStoreFactory backing, CacheSettings settings,
            MeterRegistry meterRegistry) {
        return bundle -> new CachingEmbeddingStore(backing.open(bundle), bundle.manifest().tables(), settings,
                meterRegistry, Tags.of("model", bundle.manifest().model().name(),
                        "version", bundle.manifest().model().version()));
    }

    @Override
    public void fetchRows(String table, long[] rows, float[] destination) {
        TableCache tableCache = cache(table);
        int dim = tableCache.dim;
        int[] missing = null;
        int missCount = 0;
        for (int i = 0; i < rows.length; i++) {
            float[] row = tableCache.rows.getIfPresent(rows[i]);
            if (row != null) {
                System.arraycopy(row, 0, destination, i * dim, dim);
            } else {
                if (missing == null) {
                    missing = new int[rows.length - i];
                }
                missing[missCount++] = i;
            }
        }
        if (missCount > 0) {
            load(table, tableCache, rows, missing, missCount, destination);
        }
    }

    /** The rows at positions {@code missing[0, count)} of {@code rows}: one delegate call, one recorded load. */
    private void load(String table, TableCache tableCache, long[] rows, int[] missing, int count, float[] destination) {
        int dim = tableCache.dim;
        long[] missingRows = new long[count];
        for (int m = 0; m < count; m++) {
            missingRows[m] = rows[missing[m]];
        }
        float[] fetched = new float[count * dim];
        long generation = tableCache.generation.get();
        long started = System.nanoTime();
        try {
            delegate.fetchRows(table, missingRows, fetched);
        } catch (RuntimeException e) {
            tableCache.stats.recordLoadFailure(System.nanoTime() - started);
            throw e;
        }
        tableCache.stats.recordLoadSuccess(System.nanoTime() - started);
        for (int m = 0; m < count; m++) {
            System.arraycopy(fetched, m * dim, destination, missing[m] * dim, dim);
        }
        // Rows changed since the fetch began may be old values: this request uses them (it started before the
        // change), the cache must not keep them.
        if (tableCache.generation.get() == generation) {
            for (int m = 0; m < count; m++) {
                tableCache.rows.put(missingRows[m], Arrays.copyOfRange(fetched, m * dim, (m + 1) * dim));
            }
        }
    }

    /**
     * Bumps the table's generation, then evicts the changed rows: a fetch that began before the bump cannot put
     * its (possibly old) rows into the cache after the eviction.
     */
    @Override
    public void rowsWritten(String table, long rowCount, long[] changedRows) {
        delegate.rowsWritten(table, rowCount, changedRows);
        TableCache tableCache = cache(table);
        tableCache.generation.incrementAndGet();
        List<Long> keys = new ArrayList<>(changedRows.length);
        for (long row : changedRows) {
            keys.add(row);
        }
        tableCache.rows.invalidateAll(keys);
    }

    public CacheStats stats(String table) {
        return cache(table).rows.stats();
    }

    /** Also removes this store's cache meters, so a closed model version stops being reported. */
    @Override
    public void close() {
        // Only meters still bound to this store's caches: a newer store of the same version may have taken over.
        List<Meter> registered = meterRegistry.getMeters();
        meters.stream()
                .filter(mine -> registered.stream().anyMatch(meter -> meter == mine))
                .forEach(meterRegistry::remove);
        delegate.close();
    }

    /**
     * A registry keeps the first meter of a name and tags, so meters left by an earlier store of the same model
     * version (the same bundle loaded again) are removed first; otherwise they would go on reporting its caches.
     */
    private void bindMeters(LoadingCache<Long, float[]> cache, Tags tableTags) {
        List<Tag> identifying = tableTags.and("cache", CACHE_NAME).stream().toList();
        meterRegistry.getMeters().stream()
                .filter(meter -> meter.getId().getTags().containsAll(identifying))
                .forEach(meterRegistry::remove);
        new CaffeineCacheMetrics<>(cache, CACHE_NAME, tableTags).bindTo(meterRegistry);
        meterRegistry.getMeters().stream()
                .filter(meter -> meter.getId().getTags().containsAll(identifying))
                .forEach(meters::add);
    }

    private TableCache cache(String table) {
        TableCache tableCache = caches.get(table);
        if (tableCache == null) {
            throw new IllegalArgumentException("unknown table '" + table + "'");
        }
        return tableCache;
    }

    /** @param generation bumped whenever rows of the table change underneath; see {@link #rowsWritten} */
    private record TableCache(int dim, Cache<Long, float[]> rows, StatsCounter stats, AtomicLong generation) {}
}
