package dev.stemnet.service.pipeline;

/** The request is refused on arrival, before its body is read: it could not be scored within its deadline. */
public class OverloadedException extends RuntimeException {

    OverloadedException(String reason) {
        super("overloaded: " + reason + "; retry later");
    }
}
