package dev.stemnet.service.api;

import java.io.IOException;

/** A request body longer than {@code stem.scoring.max-body-size}; thrown while it is read. */
class RequestTooLargeException extends IOException {

    RequestTooLargeException(long maxBytes) {
        super("the request body is larger than " + maxBytes + " bytes (stem.scoring.max-body-size)");
    }
}
