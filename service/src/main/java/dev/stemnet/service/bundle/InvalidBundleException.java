package dev.stemnet.service.bundle;

/** The bundle breaks the contract in {@code docs/bundle-format.md}; the message names the file or key. */
public class InvalidBundleException extends RuntimeException {

    public InvalidBundleException(String message) {
        super(message);
    }

    public InvalidBundleException(String message, Throwable cause) {
        super(message, cause);
    }
}
