package dev.stemnet.service.scoring;

/** The request cannot be scored as it is; {@code field} is the path of the offending part, e.g. {@code tasks[1]}. */
public class InvalidRequestException extends RuntimeException {

    private final String field;
    private final String reason;

    public InvalidRequestException(String field, String reason) {
        super(field + ": " + reason);
        this.field = field;
        this.reason = reason;
    }

    public String field() {
        return field;
    }

    public String reason() {
        return reason;
    }
}
