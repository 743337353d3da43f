package dev.stemnet.service.model;

/**
 * Where requests find the model to score with. Holds a single model loaded at startup; this is the place
 * that will hold several models, or swap one for a newer version, when the service learns to.
 */
public final class ModelRegistry implements AutoCloseable {

    private final LoadedModel current;

    public ModelRegistry(LoadedModel current) {
        this.current = current;
    }

    public LoadedModel current() {
        return current;
    }

    @Override
    public void close() {
        current.close();
    }
}
