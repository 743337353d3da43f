package dev.stemnet.service.model;

import java.time.Instant;

/**
 * The outcome of loading one repository directory.
 *
 * @param name    the model name, null when the bundle did not load
 * @param version the model version, null when the bundle did not load
 * @param error   why the bundle did not load, null when it loaded
 */
public record LoadAttempt(String directory, Instant at, Outcome outcome, String name, String version, String error) {

    public enum Outcome {
        LOADED,
        REJECTED,
        /** The embedding store could not serve the model's rows (unreachable, rows not loaded): tried again by itself. */
        WAITING_FOR_STORE
    }

    static LoadAttempt loaded(String directory, LoadedModel model) {
        return new LoadAttempt(directory, Instant.now(), Outcome.LOADED,
                model.manifest().model().name(), model.manifest().model().version(), null);
    }

    static LoadAttempt rejected(String directory, RuntimeException reason) {
        return new LoadAttempt(directory, Instant.now(), Outcome.REJECTED, null, null, reason.getMessage());
    }

    static LoadAttempt waitingForStore(String directory, RuntimeException reason) {
        return new LoadAttempt(directory, Instant.now(), Outcome.WAITING_FOR_STORE, null, null, reason.getMessage());
    }
}
