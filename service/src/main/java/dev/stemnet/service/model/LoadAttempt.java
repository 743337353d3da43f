package dev.stemnet.service.model;

import java.time.Instant;

/**
 * The outcome of loading one repository directory.
 *
 * @param name    the model name, null when the bundle was rejected
 * @param version the model version, null when the bundle was rejected
 * @param error   why the bundle was rejected, null when it loaded
 */
public record LoadAttempt(String directory, Instant at, Outcome outcome, String name, String version, String error) {

    public enum Outcome { LOADED, REJECTED }

    static LoadAttempt loaded(String directory, LoadedModel model) {
        return new LoadAttempt(directory, Instant.now(), Outcome.LOADED,
                model.manifest().model().name(), model.manifest().model().version(), null);
    }

    static LoadAttempt rejected(String directory, RuntimeException reason) {
        return new LoadAttempt(directory, Instant.now(), Outcome.REJECTED, null, null, reason.getMessage());
    }
}
