package dev.stemnet.service.scoring;

import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.embedding.EmbeddingStore;
import java.nio.FloatBuffer;

/**
 * Fills a table's network input with embedding rows. Every distinct row is fetched once per request even
 * when many slots need it, as the user's rows are needed by every candidate.
 */
final class EmbeddingGatherer {

    private final EmbeddingStore store;

    EmbeddingGatherer(EmbeddingStore store) {
        this.store = store;
    }

    EmbeddingStore store() {
        return store;
    }

    /**
     * @param slotRows the row for each slot of the input, slot {@code s} at floats {@code [s * dim, (s + 1) * dim)}
     * @return the table's input buffer from {@code buffers}, holding {@code slotRows.length * dim} floats
     */
    FloatBuffer gather(TableSpec table, long[] slotRows, InputBuffers buffers) {
        int dim = table.dim();
        DistinctRows distinct = buffers.distinctRows();
        distinct.index(slotRows);
        long[] distinctRows = distinct.rows();
        float[] fetched = buffers.fetchedRows(distinctRows.length * dim);
        store.fetchRows(table.name(), distinctRows, fetched);

        FloatBuffer input = buffers.input(table.name(), slotRows.length * dim);
        for (int slot = 0; slot < slotRows.length; slot++) {
            input.put(slot * dim, fetched, distinct.positionOf(slot) * dim, dim);
        }
        return input;
    }
}
