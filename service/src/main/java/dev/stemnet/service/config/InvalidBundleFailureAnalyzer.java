package dev.stemnet.service.config;

import dev.stemnet.service.bundle.InvalidBundleException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a refused bundle into a short startup report instead of a long stack trace. */
class InvalidBundleFailureAnalyzer extends AbstractFailureAnalyzer<InvalidBundleException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidBundleException cause) {
        return new FailureAnalysis(
                "The model bundle was refused: " + cause.getMessage(),
                "Point stem.bundle.dir at a bundle written by the trainer (make bundle, or make test-bundle for"
                        + " the tiny test bundle) and do not edit its files by hand.",
                cause);
    }
}
