package dev.stemnet.service.scoring;

import java.time.Duration;

/** The request's deadline ({@code stem.scoring.deadline}) passed before its scores were ready. */
public class DeadlineExceededException extends RuntimeException {

    public DeadlineExceededException(Duration budget, String step) {
        super("the deadline of " + budget.toMillis() + " ms passed before " + step);
    }
}
