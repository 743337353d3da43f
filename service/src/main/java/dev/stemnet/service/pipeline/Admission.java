package dev.stemnet.service.pipeline;

import dev.stemnet.service.scoring.Deadline;
import dev.stemnet.service.scoring.DeadlineExceededException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides on arrival, before the body is read, whether a request can be scored within its deadline, and then
 * hands out the scoring slots.
 *
 * <p>A request is admitted with a {@link Ticket} while fewer than {@code maxConcurrent + maxQueued} tickets are out
 * and, if it would have to wait for a slot, the estimated time to its scores fits in what is left of its deadline;
 * otherwise it is refused at once
 * ({@link OverloadedException}, a 429). The estimate is Little's law over measured means: the time from arrival to
 * asking for a slot (reading and parsing the body), plus the wait behind the tickets ahead of it
 * ({@code position * slotTime / maxConcurrent}), plus one slot time. A ticket holder reads its body without a slot,
 * so a slow upload never holds one; it takes a {@link Slot} only to score, and gives up waiting for it at the
 * deadline, unscored. {@link Priority#QA} requests are admitted only while no request would wait.
 */
public final class Admission {

    /** Weight of a new sample in the running means: about the last 16 requests. */
    private static final int MEAN_WINDOW = 16;

    private final int maxConcurrent;
    private final int maxQueued;
    private final Semaphore slots;
    private final AtomicInteger tickets = new AtomicInteger();
    private final AtomicInteger waitingForSlot = new AtomicInteger();
    private final AtomicLong meanSlotNanos = new AtomicLong();
    private final AtomicLong meanBeforeSlotNanos = new AtomicLong();

    public Admission(int maxConcurrent, int maxQueued) {
        this.maxConcurrent = maxConcurrent;
        this.maxQueued = maxQueued;
        // Fair: slots go to waiters in arrival order, which is what the wait estimate assumes.
        this.slots = new Semaphore(maxConcurrent, true);
    }

    /**
     * @throws OverloadedException when the request could not be scored within {@code deadline}
     */
    public Ticket admit(Deadline deadline, Priority priority) {
        int queueLimit = priority == Priority.QA ? 0 : maxQueued;
        while (true) {
            int out = tickets.get();
            int position = out - maxConcurrent + 1;
            if (position > queueLimit && priority == Priority.QA) {
                throw new OverloadedException(OverloadedException.Reason.QA, "QA requests are scored only while a"
                        + " slot is free (stem.scoring.max-concurrent = " + maxConcurrent + ")");
            }
            if (position > queueLimit) {
                throw new OverloadedException(OverloadedException.Reason.QUEUE_FULL, maxConcurrent + " requests are"
                        + " being scored or read and " + maxQueued + " are waiting (stem.scoring.max-concurrent,"
                        + " stem.scoring.max-queued)");
            }
            // Only a request that would wait is refused on the estimate: one that finds a free slot always gets its
            // chance, and so the estimate keeps learning even after a run of slow requests.
            long estimate = estimatedNanosToScores(position);
            if (position > 0 && estimate > deadline.remainingNanos()) {
                throw new OverloadedException(OverloadedException.Reason.DEADLINE_ESTIMATE, "scores would take about " + TimeUnit.NANOSECONDS.toMillis(estimate)
                        + " ms with " + (position - 1) + " requests waiting ahead, past the deadline of "
                        + deadline.budget().toMillis() + " ms (stem.scoring.deadline)");
            }
            if (tickets.compareAndSet(out, out + 1)) {
                return new Ticket(deadline);
            }
        }
    }

    /**
     * The running estimate that {@link #admit} compares with the deadline.
     *
     * @param position 1 for the first request that would wait for a slot, 0 or less when a slot is free
     */
    long estimatedNanosToScores(int position) {
        long slot = meanSlotNanos.get();
        return meanBeforeSlotNanos.get() + Math.max(0, position) * slot / maxConcurrent + slot;
    }

    /** Requests holding a scoring slot now. */
    public int scoring() {
        return maxConcurrent - slots.availablePermits();
    }

    /**
     * Whether serving traffic is at capacity: every slot taken, or a request waiting for one. Work that can be dropped
     * (shadows) is, then.
     */
    public boolean servingWaits() {
        return waitingForSlot.get() > 0 || slots.availablePermits() == 0;
    }

    /** Requests waiting for a scoring slot now. */
    public int waitingForSlot() {
        return waitingForSlot.get();
    }

    /** Requests admitted and not yet answered: reading their body, waiting for a slot, or scoring. */
    public int admitted() {
        return tickets.get();
    }

    private static void addSample(AtomicLong mean, long sample) {
        mean.getAndUpdate(current -> current == 0 ? sample : current + (sample - current) / MEAN_WINDOW);
    }

    /** An admitted request, from arrival to response. Closing it gives back its slot too, if it holds one. */
    public final class Ticket implements AutoCloseable {
        private final Deadline deadline;
        private Slot slot;
        private boolean closed;

        private Ticket(Deadline deadline) {
            this.deadline = deadline;
        }

        public Deadline deadline() {
            return deadline;
        }

        /**
         * Waits for a scoring slot, in arrival order, until the deadline.
         *
         * @throws DeadlineExceededException when no slot frees up before the deadline
         */
        public Slot awaitSlot() {
            if (slot != null) {
                throw new IllegalStateException("this request holds a slot already");
            }
            addSample(meanBeforeSlotNanos, deadline.elapsedNanos());
            try {
                // A request that finds a slot free is never counted waiting: servingWaits() would shed shadows for it.
                // The zero timeout keeps the arrival order that a plain tryAcquire() would barge past.
                if (!slots.tryAcquire(0, TimeUnit.NANOSECONDS)) {
                    waitForSlot();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a scoring slot", e);
            }
            slot = new Slot();
            return slot;
        }

        private void waitForSlot() throws InterruptedException {
            waitingForSlot.incrementAndGet();
            try {
                if (!slots.tryAcquire(Math.max(0, deadline.remainingNanos()), TimeUnit.NANOSECONDS)) {
                    throw new DeadlineExceededException(deadline.budget(), "a scoring slot was free");
                }
            } finally {
                waitingForSlot.decrementAndGet();
            }
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                if (slot != null) {
                    slot.close();
                }
                tickets.decrementAndGet();
            }
        }
    }

    /** A scoring slot; its hold time feeds the estimate. */
    public final class Slot implements AutoCloseable {
        private final long acquiredNanos = System.nanoTime();
        private boolean released;

        private Slot() {}

        @Override
        public void close() {
            if (!released) {
                released = true;
                addSample(meanSlotNanos, System.nanoTime() - acquiredNanos);
                slots.release();
            }
        }
    }
}
