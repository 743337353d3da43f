package dev.stemnet.service.embedding;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.PositiveOrZero;
import java.util.Map;

/**
 * {@code stem.cache.*}: how many rows each table's cache in front of the Redis store keeps (the mapped-file store
 * has no row cache). Table names with characters such as ':' need brackets in property keys:
 * {@code stem.cache.tables.[task:pay].maximum-size}.
 */
public record CacheSettings(
        @PositiveOrZero long defaultMaximumSize,
        Map<String, @NotNull @Valid TableCacheSettings> tables) {

    public CacheSettings {
        tables = tables == null ? Map.of() : Map.copyOf(tables);
    }

    public record TableCacheSettings(@NotNull @PositiveOrZero Long maximumSize) {}

    public long maximumSizeOf(String table) {
        TableCacheSettings settings = tables.get(table);
        return settings == null ? defaultMaximumSize : settings.maximumSize();
    }
}
