package dev.stemnet.service.delta;

/** A delta failed one of its checks; nothing of it was applied. The message names the file, key or fixture. */
public class DeltaRefusedException extends RuntimeException {

    private final DeltaRefusal reason;

    public DeltaRefusedException(DeltaRefusal reason, String message) {
        this(reason, message, null);
    }

    public DeltaRefusedException(DeltaRefusal reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public DeltaRefusal reason() {
        return reason;
    }
}
