package dev.stemnet.service.scoring;

import java.time.Duration;

/**
 * How long a request may still take, counted from its arrival. Checked between the stages of scoring, which
 * cannot be cut short.
 */
public final class Deadline {

    private final Duration budget;
    private final long startedNanos;

    private Deadline(Duration budget, long startedNanos) {
        this.budget = budget;
        this.startedNanos = startedNanos;
    }

    /** Starts now. */
    public static Deadline after(Duration budget) {
        return new Deadline(budget, System.nanoTime());
    }

    /** Started at {@code arrivalNanos} ({@link System#nanoTime()}), which may lie in the past. */
    public static Deadline since(long arrivalNanos, Duration budget) {
        return new Deadline(budget, arrivalNanos);
    }

    /** For work that nobody waits on, such as the warm-up. */
    public static Deadline none() {
        return new Deadline(null, System.nanoTime());
    }

    /** {@link Long#MAX_VALUE} without a budget; zero or less once the deadline has passed. */
    public long remainingNanos() {
        return budget == null ? Long.MAX_VALUE : budget.toNanos() - elapsedNanos();
    }

    /** Since the request arrived. */
    public long elapsedNanos() {
        return System.nanoTime() - startedNanos;
    }

    /** @throws DeadlineExceededException when the deadline has passed, naming what was about to happen */
    public void check(String nextStep) {
        if (remainingNanos() <= 0) {
            throw new DeadlineExceededException(budget, nextStep);
        }
    }

    public Duration budget() {
        return budget;
    }
}
