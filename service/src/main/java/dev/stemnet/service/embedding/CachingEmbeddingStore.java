package dev.stemnet.service.embedding;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;

/**
 * Keeps recently used rows in one Caffeine cache per table, so each table gets its own size and its own
 * statistics. Rows missing from the cache are fetched from the delegate in one call per request and table.
 */
public final class CachingEmbeddingStore implements EmbeddingStore {

    private final EmbeddingStore delegate;
    private final Map<String, TableCache> caches = new HashMap<>();

    public CachingEmbeddingStore(EmbeddingStore delegate, List<TableSpec> tables, CacheSettings settings) {
        this.delegate = delegate;
        for (TableSpec table : tables) {
            Cache<Long, float[]> cache = Caffeine.newBuilder()
                    .maximumSize(settings.maximumSizeOf(table.name()))
                    .recordStats()
                    .build();
            caches.put(table.name(), new TableCache(table.dim(), cache));
        }
    }

    @Override
    public void fetchRows(String table, long[] rows, float[] destination) {
        TableCache tableCache = cache(table);
        Map<Long, float[]> found = tableCache.rows.getAll(
                LongStream.of(rows).boxed().toList(),
                missing -> fetchFromDelegate(table, tableCache.dim, missing));
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(found.get(rows[i]), 0, destination, i * tableCache.dim, tableCache.dim);
        }
    }

    public CacheStats stats(String table) {
        return cache(table).rows.stats();
    }

    @Override
    public void close() {
        delegate.close();
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

    private record TableCache(int dim, Cache<Long, float[]> rows) {}
}
