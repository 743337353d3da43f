package dev.stemnet.service.embedding;

import dev.stemnet.service.bundle.Manifest.TableSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads rows straight from the bundle's {@code tables/*.f32} files, memory-mapped. The operating system's
 * page cache keeps hot rows in memory; nothing is copied at startup.
 */
public final class MappedFileEmbeddingStore implements EmbeddingStore {

    /** One mapping can cover at most 2 GiB; larger tables are mapped in several chunks of whole rows. */
    static final long MAX_CHUNK_BYTES = Integer.MAX_VALUE;

    private final Map<String, MappedTable> tables = new HashMap<>();

    /** @param fileOf the file of each table, already verified against the manifest */
    public MappedFileEmbeddingStore(List<TableSpec> tableSpecs, Function<TableSpec, Path> fileOf) {
        this(tableSpecs, fileOf, MAX_CHUNK_BYTES);
    }

    MappedFileEmbeddingStore(List<TableSpec> tableSpecs, Function<TableSpec, Path> fileOf, long maxChunkBytes) {
        for (TableSpec spec : tableSpecs) {
            tables.put(spec.name(), MappedTable.map(spec, fileOf.apply(spec), maxChunkBytes));
        }
    }

    @Override
    public void fetchRows(String table, long[] rows, float[] destination) {
        MappedTable mapped = tables.get(table);
        if (mapped == null) {
            throw new IllegalArgumentException("unknown table '" + table + "'");
        }
        for (int i = 0; i < rows.length; i++) {
            mapped.copyRow(rows[i], destination, i * mapped.dim);
        }
    }

    private static final class MappedTable {
        private final String name;
        private final long rows;
        private final int dim;
        private final long rowsPerChunk;
        // Read with absolute gets only, which leave the buffers' positions alone and so are safe to share.
        private final FloatBuffer[] chunks;

        private MappedTable(String name, long rows, int dim, long rowsPerChunk, FloatBuffer[] chunks) {
            this.name = name;
            this.rows = rows;
            this.dim = dim;
            this.rowsPerChunk = rowsPerChunk;
            this.chunks = chunks;
        }

        static MappedTable map(TableSpec spec, Path file, long maxChunkBytes) {
            long rowBytes = (long) spec.dim() * Float.BYTES;
            long rowsPerChunk = Math.max(1, maxChunkBytes / rowBytes);
            int chunkCount = Math.toIntExact((spec.rows() + rowsPerChunk - 1) / rowsPerChunk);
            FloatBuffer[] chunks = new FloatBuffer[chunkCount];
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                for (int c = 0; c < chunkCount; c++) {
                    long firstRow = c * rowsPerChunk;
                    long chunkRows = Math.min(rowsPerChunk, spec.rows() - firstRow);
                    chunks[c] = channel.map(MapMode.READ_ONLY, firstRow * rowBytes, chunkRows * rowBytes)
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .asFloatBuffer();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot map table '" + spec.name() + "' from " + file, e);
            }
            return new MappedTable(spec.name(), spec.rows(), spec.dim(), rowsPerChunk, chunks);
        }

        void copyRow(long row, float[] destination, int offset) {
            if (row < 0 || row >= rows) {
                throw new IndexOutOfBoundsException("row " + row + " outside table '" + name + "' of " + rows + " rows");
            }
            FloatBuffer chunk = chunks[(int) (row / rowsPerChunk)];
            chunk.get((int) (row % rowsPerChunk) * dim, destination, offset, dim);
        }
    }
}
