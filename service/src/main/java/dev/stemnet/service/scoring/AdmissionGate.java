package dev.stemnet.service.scoring;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the requests scored at once and the requests waiting for a slot. Past both bounds a request is shed
 * immediately: a short queue keeps latency flat under overload, where an unbounded one lets it grow for all.
 */
public final class AdmissionGate {

    private final int maxConcurrent;
    private final int maxQueued;
    private final Semaphore slots;
    private final AtomicInteger waiting = new AtomicInteger();

    public AdmissionGate(int maxConcurrent, int maxQueued) {
        this.maxConcurrent = maxConcurrent;
        this.maxQueued = maxQueued;
        this.slots = new Semaphore(maxConcurrent);
    }

    /** A scoring slot, given back by {@link #close()}. */
    public final class Permit implements AutoCloseable {
        private final AtomicBoolean released = new AtomicBoolean();

        @Override
        public void close() {
            if (released.compareAndSet(false, true)) {
                slots.release();
            }
        }
    }

    /**
     * @throws OverloadedException       when every slot is busy and the queue is full
     * @throws DeadlineExceededException when no slot frees up before the deadline
     */
    public Permit admit(Deadline deadline) {
        if (slots.tryAcquire()) {
            return new Permit();
        }
        if (waiting.incrementAndGet() > maxQueued) {
            waiting.decrementAndGet();
            throw new OverloadedException(maxConcurrent, maxQueued);
        }
        try {
            if (!slots.tryAcquire(deadline.remainingNanos(), TimeUnit.NANOSECONDS)) {
                throw new DeadlineExceededException(deadline.budget(), "a scoring slot was free");
            }
            return new Permit();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a scoring slot", e);
        } finally {
            waiting.decrementAndGet();
        }
    }

    /** Requests being scored now. */
    public int inFlight() {
        return maxConcurrent - slots.availablePermits();
    }
}
