package dev.stemnet.service.model;

/**
 * {@link ModelEvents} that ignores every event: for tests that need a listener but look at no events, and, as a
 * base class, for tests that look at one event and override only its method.
 */
public class NoModelEvents implements ModelEvents {

    @Override
    public void published(String directory, LoadedModel model) {}

    @Override
    public void rejected(String directory, RuntimeException reason) {}

    @Override
    public void retired(LoadedModel model) {}

    @Override
    public void closed(LoadedModel model) {}
}
