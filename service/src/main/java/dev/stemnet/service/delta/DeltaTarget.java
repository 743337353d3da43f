package dev.stemnet.service.delta;

import dev.stemnet.service.bundle.Manifest;
import dev.stemnet.service.embedding.EmbeddingStore;
import dev.stemnet.service.scoring.Scorer;

/**
 * A model version deltas are applied to: its manifest (the base a delta must name), its scorer (holding the
 * embedding state to replace), its store (told of rows written into it) and its log of attempts.
 */
public record DeltaTarget(Manifest manifest, Scorer scorer, EmbeddingStore store, DeltaLog log) {

    /** The sha256 of the version's ONNX graph, as the manifest lists it. */
    public String onnxSha256() {
        return manifest.files().get(manifest.onnx().file());
    }

    public String name() {
        return manifest.model().name();
    }

    public String version() {
        return manifest.model().version();
    }
}
