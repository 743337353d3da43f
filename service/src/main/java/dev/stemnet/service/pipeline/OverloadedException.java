package dev.stemnet.service.pipeline;

import java.util.Locale;

/** The request is refused on arrival, before its body is read: it could not be scored within its deadline. */
public class OverloadedException extends RuntimeException {

    /** Why, as {@code stem_requests_shed_total} labels it. */
    public enum Reason {
        /** {@code max-concurrent + max-queued} requests are admitted already. */
        QUEUE_FULL,
        /** The estimated time to scores, behind the requests already waiting, passes the deadline. */
        DEADLINE_ESTIMATE,
        /** A QA request, while serving traffic would wait. */
        QA;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Reason reason;

    OverloadedException(Reason reason, String detail) {
        super("overloaded: " + detail + "; retry later");
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    /** A refusal is the normal answer under overload, thousands a second: no stack trace to capture. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
