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

    /**
     * A delta wrote rows of {@code table} into the backing store itself (Redis, where every replica reads them): the
     * table has {@code rowCount} rows from now on, and the existing rows {@code changedRows} hold new values. A store
     * that checks bounds grows them; one that keeps copies of rows forgets those of the changed rows. Called before
     * the embedding state that reads the new rows serves; rows only ever grow.
     */
    default void rowsWritten(String table, long rowCount, long[] changedRows) {}

    @Override
    default void close() {}
}
