package dev.stemnet.service.embedding;

/**
 * A store could not deliver the rows a request needs: unreachable, too slow, or holding no (or a malformed)
 * value for a row. The request fails rather than being scored with rows that are not the model's.
 */
public class EmbeddingStoreUnavailableException extends RuntimeException {

    private final String store;
    private final String table;
    private final String reason;

    /** @param reason a short, fixed token for metrics: {@code timeout}, {@code unavailable}, {@code missing_row}, ... */
    public EmbeddingStoreUnavailableException(String store, String table, String reason, String message,
            Throwable cause) {
        super(message, cause);
        this.store = store;
        this.table = table;
        this.reason = reason;
    }

    public String store() {
        return store;
    }

    public String table() {
        return table;
    }

    public String reason() {
        return reason;
    }
}
