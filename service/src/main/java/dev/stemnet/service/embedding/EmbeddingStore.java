package dev.stemnet.service.embedding;

/**
 * Where embedding rows live. Callers pass every row a request needs from one table at once, so that a
 * remote store can answer with a single round trip.
 */
public interface EmbeddingStore extends AutoCloseable {

    /**
     * Copies the given rows of {@code table} into {@code destination}: row {@code rows[i]} goes to
     * {@code destination[i * dim, (i + 1) * dim)}. {@code destination} may be longer than needed.
     *
     * @throws IllegalArgumentException if the table is unknown
     * @throws IndexOutOfBoundsException if a row lies outside the table
     */
    void fetchRows(String table, long[] rows, float[] destination);

    @Override
    default void close() {}
}
