package dev.stemnet.service.embedding.redis;

import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.embedding.EmbeddingStore;
import dev.stemnet.service.embedding.EmbeddingStoreUnavailableException;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads a model version's rows from Redis (layout in {@link RedisKeyLayout}) with one {@code MGET} per request
 * and table. A row Redis does not have, or holds with the wrong length, fails the request: it is never
 * replaced by zeros or any other made-up row. A row past the table is refused before Redis is asked; deltas append
 * rows, so the bounds are the applied state's ({@link #rowsWritten}), not the manifest's.
 */
public final class RedisEmbeddingStore implements EmbeddingStore {

    static final String STORE_NAME = "redis";

    private final RedisConnection redis;
    private final RedisKeyLayout keys;
    private final Map<String, Table> tables = new HashMap<>();
    private final MeterRegistry meterRegistry;

    /**
     * @throws EmbeddingStoreUnavailableException if Redis does not answer, or the loader has not finished loading
     *     this model version's tables (or loaded other shapes): the model cannot serve from this Redis yet
     */
    public RedisEmbeddingStore(RedisConnection redis, RedisKeyLayout keys, List<TableSpec> tableSpecs,
            MeterRegistry meterRegistry) {
        this.redis = redis;
        this.keys = keys;
        this.meterRegistry = meterRegistry;
        tableSpecs.forEach(spec -> tables.put(spec.name(), new Table(spec, new AtomicLong(spec.rows()))));
        checkLoaded(tableSpecs);
    }

    @Override
    public void fetchRows(String table, long[] rows, float[] destination) {
        Table known = tables.get(table);
        if (known == null) {
            throw new IllegalArgumentException("unknown table '" + table + "'");
        }
        TableSpec spec = known.spec();
        byte[][] rowKeys = new byte[rows.length][];
        long rowCount = known.rows().get();
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= rowCount) {
                throw new IndexOutOfBoundsException(
                        "row " + rows[i] + " outside table '" + table + "' of " + rowCount + " rows");
            }
            rowKeys[i] = keys.rowKey(table, rows[i]);
        }
        List<KeyValue<byte[], byte[]>> values = mget(table, rowKeys);
        int rowBytes = spec.dim() * Float.BYTES;
        for (int i = 0; i < rows.length; i++) {
            KeyValue<byte[], byte[]> value = values.get(i);
            if (!value.hasValue()) {
                throw failure(table, "missing_row", "Redis has no row " + rows[i] + " of table '" + table + "' of "
                        + keys.model() + " " + keys.version() + "; load the bundle into Redis", null);
            }
            byte[] bytes = value.getValue();
            if (bytes.length != rowBytes) {
                throw failure(table, "wrong_length", "Redis holds " + bytes.length + " bytes for row " + rows[i]
                        + " of table '" + table + "', not " + rowBytes, null);
            }
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
                    .get(destination, i * spec.dim(), spec.dim());
        }
    }

    /** Grows the table's bounds to a delta's rows; the changed rows are read from Redis anyway, as nothing is kept. */
    @Override
    public void rowsWritten(String table, long rowCount, long[] changedRows) {
        Table known = tables.get(table);
        if (known == null) {
            throw new IllegalArgumentException("unknown table '" + table + "'");
        }
        known.rows().accumulateAndGet(rowCount, Math::max);
    }

    /** @param rows the manifest's, grown by each delta applied */
    private record Table(TableSpec spec, AtomicLong rows) {}

    private List<KeyValue<byte[], byte[]>> mget(String table, byte[][] rowKeys) {
        try {
            return redis.commands().mget(rowKeys);
        } catch (RedisCommandTimeoutException e) {
            throw failure(table, "timeout", "Redis did not answer in time: " + e.getMessage(), e);
        } catch (RedisConnectionException e) {
            throw failure(table, "unavailable", "Redis is unreachable: " + e.getMessage(), e);
        } catch (RedisException e) {
            // Lettuce rejects commands at once while it reconnects ("Currently not connected").
            throw failure(table, "unavailable", "Redis failed: " + e.getMessage(), e);
        }
    }

    private EmbeddingStoreUnavailableException failure(String table, String reason, String message, Throwable cause) {
        Counter.builder("stem.embedding.store.errors")
                .description("Row fetches an embedding store could not serve")
                .tag("store", STORE_NAME)
                .tag("table", table)
                .tag("reason", reason)
                .register(meterRegistry)
                .increment();
        return new EmbeddingStoreUnavailableException(STORE_NAME, table, reason, message, cause);
    }

    private void checkLoaded(List<TableSpec> tableSpecs) {
        Map<byte[], byte[]> loaded;
        try {
            loaded = redis.commands().hgetall(keys.tablesKey());
        } catch (RedisException e) {
            throw new EmbeddingStoreUnavailableException(STORE_NAME, null, "unavailable",
                    redis + " cannot serve " + keys.model() + " " + keys.version() + " now: " + e.getMessage(), e);
        }
        Map<String, String> loadedShapes = new HashMap<>();
        loaded.forEach((table, shape) ->
                loadedShapes.put(new String(table, StandardCharsets.UTF_8), new String(shape, StandardCharsets.UTF_8)));
        for (TableSpec spec : tableSpecs) {
            String expected = RedisKeyLayout.tableShape(spec.rows(), spec.dim());
            String found = loadedShapes.get(spec.name());
            if (!expected.equals(found)) {
                throw new EmbeddingStoreUnavailableException(STORE_NAME, spec.name(), "not_loaded",
                        redis + " has " + (found == null ? "no" : "\"" + found + "\"")
                        + " entry for table '" + spec.name() + "' of " + keys.model() + " " + keys.version()
                        + " (expected \"" + expected + "\"); load the bundle with --stem.embedding.redis.load-bundle=<dir>",
                        null);
            }
        }
    }
}
