package dev.stemnet.service.embedding;

import com.github.benmanes.caffeine.cache.CacheLoader;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
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
import java.util.Set;
import java.util.stream.LongStream;

/**
 * Keeps recently used rows in one Caffeine cache per table, so each table gets its own size and its own
 * statistics. Rows missing from the cache are fetched from the delegate in one call per request and table.
 * Each cache's statistics are Micrometer meters ({@code cache.gets}, {@code cache.evictions},
 * {@code cache.load.duration}, ...) named {@value #CACHE_NAME} and tagged with the table, for as long as the
 * store is open.
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
            // A loading cache, so that load counts and load time are published along with hits and misses.
            LoadingCache<Long, float[]> cache = Caffeine.newBuilder()
                    .maximumSize(settings.maximumSizeOf(table.name()))
                    .recordStats()
                    .build(CacheLoader.bulk(missing -> fetchFromDelegate(table.name(), table.dim(), missing)));
            caches.put(table.name(), new TableCache(table.dim(), cache));
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
        Map<Long, float[]> found = tableCache.rows.getAll(LongStream.of(rows).boxed().toList());
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(found.get(rows[i]), 0, destination, i * tableCache.dim, tableCache.dim);
        }
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

    private Map<Long, float[]> fetchFromDelegate(String table, int dim, Set<? extends Long> missing) {
        long[] rows = missing.stream().mapToLong(Long::longValue).toArray();
        float[] fetched = new float[rows.length * dim];
        delegate.fetchRows(table, rows, fetched);
        Map<Long, float[]> byRow = new HashMap<>(rows.length * 2);
        for (int i = 0; i < rows.length; i++) {
            byRow.put(rows[i], Arrays.copyOfRange(fetched, i * dim, (i + 1) * dim));
        }
        return byRow;
    }

    private TableCache cache(String table) {
        TableCache tableCache = caches.get(table);
        if (tableCache == null) {
            throw new IllegalArgumentException("unknown table '" + table + "'");
        }
        return tableCache;
    }

    private record TableCache(int dim, LoadingCache<Long, float[]> rows) {}
}
