package dev.stemnet.service.model;

import java.util.concurrent.atomic.AtomicBoolean;

/** One request's hold on a model version: it stays open until every lease on it is closed. */
public final class ModelLease implements AutoCloseable {

    private final ServingModel serving;
    private final AtomicBoolean released = new AtomicBoolean();

    ModelLease(ServingModel serving) {
        this.serving = serving;
    }

    public LoadedModel model() {
        return serving.model();
    }

    @Override
    public void close() {
        if (released.compareAndSet(false, true)) {
            serving.release();
        }
    }
}
