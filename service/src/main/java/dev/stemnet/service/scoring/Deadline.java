package dev.stemnet.service.scoring;

import java.time.Duration;

/** How long a request may still take. Checked between the stages of scoring, which cannot be cut short. */
public final class Deadline {

    private final Duration budget;
    private final long startedNanos;

    private Deadline(Duration budget) {
        this.budget = budget;
        this.startedNanos = System.nanoTime();
    }

    /** Starts now. */
    public static Deadline after(Duration budget) {
        return new Deadline(budget);
    }

    /** For work that nobody waits on, such as the warm-up. */
    public static Deadline none() {
        return new Deadline(null);
    }

    /** {@link Long#MAX_VALUE} without a budget; zero or less once the deadline has passed. */
    public long remainingNanos() {
        return budget == null ? Long.MAX_VALUE : budget.toNanos() - (System.nanoTime() - startedNanos);
    }

    /** @throws DeadlineExceededException when the deadline has passed, naming what was about to happen */
    public void check(String nextStep) {
        if (remainingNanos() <= 0) {
            throw new DeadlineExceededException(budget, nextStep);
        }
    }

    Duration budget() {
        return budget;
    }
}
