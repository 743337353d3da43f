package dev.stemnet.service.embedding.redis;

import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.embedding.MappedFileEmbeddingStore;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Copies a checked bundle's tables into Redis ({@link RedisKeyLayout}): rows in batches of {@code MSET},
 * then every row read back with {@code MGET} and compared byte for byte, then the {@code tables} hash that
 * tells the service the version is complete. Loading the same bundle again writes the same values, so it
 * is safe to repeat, e.g. after Redis lost its data.
 */
public final class RedisBundleLoader {

    /** Rows per MSET/MGET: large enough to amortize round trips, small enough to keep Redis responsive. */
    static final int BATCH_ROWS = 1000;

    private final RedisConnection redis;

    public RedisBundleLoader(RedisConnection redis) {
        this.redis = redis;
    }

    public record LoadedTable(String name, long rows, int dim) {}

    public List<LoadedTable> load(ModelBundle bundle) {
        RedisKeyLayout keys = new RedisKeyLayout(bundle.manifest().model().name(), bundle.manifest().model().version());
        List<TableSpec> tables = bundle.manifest().tables();
        List<LoadedTable> loaded = new ArrayList<>();
        try (MappedFileEmbeddingStore files =
                new MappedFileEmbeddingStore(tables, table -> bundle.file(table.file()))) {
            for (TableSpec table : tables) {
                copyTable(files, keys, table);
                loaded.add(new LoadedTable(table.name(), table.rows(), table.dim()));
            }
        }
        Map<byte[], byte[]> shapes = new LinkedHashMap<>();
        for (TableSpec table : tables) {
            shapes.put(table.name().getBytes(StandardCharsets.UTF_8),
                    RedisKeyLayout.tableShape(table.rows(), table.dim()).getBytes(StandardCharsets.UTF_8));
        }
        redis.commands().hset(keys.tablesKey(), shapes);
        return loaded;
    }

    private void copyTable(MappedFileEmbeddingStore files, RedisKeyLayout keys, TableSpec table) {
        int rowBytes = table.dim() * Float.BYTES;
        float[] floats = new float[BATCH_ROWS * table.dim()];
        for (long first = 0; first < table.rows(); first += BATCH_ROWS) {
            int count = (int) Math.min(BATCH_ROWS, table.rows() - first);
            long[] rows = new long[count];
            for (int i = 0; i < count; i++) {
                rows[i] = first + i;
            }
            files.fetchRows(table.name(), rows, floats);

            Map<byte[], byte[]> batch = new LinkedHashMap<>(count * 2);
            byte[][] batchKeys = new byte[count][];
            for (int i = 0; i < count; i++) {
                ByteBuffer value = ByteBuffer.allocate(rowBytes).order(ByteOrder.LITTLE_ENDIAN);
                value.asFloatBuffer().put(floats, i * table.dim(), table.dim());
                batchKeys[i] = keys.rowKey(table.name(), rows[i]);
                batch.put(batchKeys[i], value.array());
            }
            redis.commands().mset(batch);
            verify(table, batchKeys, batch);
        }
    }

    private void verify(TableSpec table, byte[][] batchKeys, Map<byte[], byte[]> written) {
        var stored = redis.commands().mget(batchKeys);
        for (int i = 0; i < batchKeys.length; i++) {
            var value = stored.get(i);
            if (!value.hasValue() || !Arrays.equals(value.getValue(), written.get(batchKeys[i]))) {
                throw new IllegalStateException("Redis did not keep " + new String(batchKeys[i], StandardCharsets.UTF_8)
                        + " of table '" + table.name() + "' as written");
            }
        }
    }
}
