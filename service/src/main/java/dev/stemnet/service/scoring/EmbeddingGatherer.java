package dev.stemnet.service.scoring;

import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.embedding.EmbeddingStore;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Fills a table's network input with embedding rows. Every distinct row is fetched once per request even
 * when many slots need it, as the user's rows are needed by every candidate.
 */
final class EmbeddingGatherer {

    private final EmbeddingStore store;

    EmbeddingGatherer(EmbeddingStore store) {
        this.store = store;
    }

    /**
     * @param slotRows the row for each slot of the input, slot {@code s} at floats {@code [s * dim, (s + 1) * dim)}
     * @return the table's input buffer from {@code buffers}, holding {@code slotRows.length * dim} floats
     */
    FloatBuffer gather(TableSpec table, long[] slotRows, InputBuffers buffers) {
        int dim = table.dim();
        long[] distinctRows = distinctSorted(slotRows);
        float[] fetched = buffers.fetchedRows(distinctRows.length * dim);
        store.fetchRows(table.name(), distinctRows, fetched);

        FloatBuffer input = buffers.input(table.name(), slotRows.length * dim);
        for (int slot = 0; slot < slotRows.length; slot++) {
            int fetchedIndex = Arrays.binarySearch(distinctRows, slotRows[slot]);
            input.put(slot * dim, fetched, fetchedIndex * dim, dim);
        }
        return input;
    }

    /** The distinct values in ascending order; a primitive sort, as {@code LongStream.distinct()} boxes every value. */
    static long[] distinctSorted(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int distinct = 0;
        for (int i = 0; i < sorted.length; i++) {
            if (distinct == 0 || sorted[i] != sorted[distinct - 1]) {
                sorted[distinct++] = sorted[i];
            }
        }
        return distinct == sorted.length ? sorted : Arrays.copyOf(sorted, distinct);
    }
}
