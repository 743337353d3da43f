package dev.stemnet.service.embedding;

/**
 * Whether the embedding store can be read now, as the {@code embeddingStore} health component and
 * {@code GET /actuator/models} report it.
 *
 * @param store  which store, e.g. {@code Redis 10.0.0.5:6379}
 * @param reason why it is not {@link State#AVAILABLE}; null when it is
 */
public record EmbeddingStoreStatus(String store, State state, String reason) {

    public enum State {
        AVAILABLE,
        /** Not reached since the service started: no model that reads it can load yet. */
        UNREACHABLE,
        /** Reached once, lost since: requests that miss the caches get 503 until the client has reconnected. */
        RECONNECTING
    }

    public static EmbeddingStoreStatus available(String store) {
        return new EmbeddingStoreStatus(store, State.AVAILABLE, null);
    }

    /** The status of the store the service reads, now. */
    @FunctionalInterface
    public interface Source {
        EmbeddingStoreStatus current();
    }
}
