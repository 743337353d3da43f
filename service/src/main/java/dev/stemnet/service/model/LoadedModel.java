package dev.stemnet.service.model;

import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.delta.DeltaLog;
import dev.stemnet.service.delta.DeltaTarget;
import dev.stemnet.service.embedding.EmbeddingStore;
import dev.stemnet.service.inference.OnnxModel;
import dev.stemnet.service.scoring.Scorer;
import java.time.Duration;
import java.time.Instant;

/**
 * A model ready to score, with everything it holds open.
 *
 * @param deltas the delta attempts on this version, newest last
 */
public record LoadedModel(
        ModelBundle bundle,
        EmbeddingStore embeddingStore,
        OnnxModel network,
        Scorer scorer,
        Instant loadedAt,
        Duration loadDuration,
        DeltaLog deltas) implements AutoCloseable {

    public Manifest manifest() {
        return bundle.manifest();
    }

    /** This version as deltas are applied to it. */
    public DeltaTarget deltaTarget() {
        return new DeltaTarget(manifest(), scorer, embeddingStore, deltas);
    }

    /**
     * One load is one model: another load of the same bundle holds its own session and store. Identity also keeps
     * the lookups keyed by a model, one per request for its meters, from hashing the whole manifest.
     */
    @Override
    public boolean equals(Object other) {
        return this == other;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    @Override
    public void close() {
        network.close();
        embeddingStore.close();
    }
}
