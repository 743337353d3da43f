package dev.stemnet.service.model;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A loaded model as the registry serves it, reference counted: the registry holds one reference while the
 * model serves and every request holds one through its {@link ModelLease}. Retiring drops the registry's
 * reference; the last lease to end closes the session and the store, so no request loses its model midway.
 */
public final class ServingModel {

    public enum State { READY, DRAINING, CLOSED }

    private final LoadedModel model;
    private final Consumer<ServingModel> onClosed;
    private final AtomicInteger references = new AtomicInteger(1);
    private final AtomicBoolean retired = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);

    ServingModel(LoadedModel model, Consumer<ServingModel> onClosed) {
        this.model = model;
        this.onClosed = onClosed;
    }

    public LoadedModel model() {
        return model;
    }

    public String name() {
        return model.manifest().model().name();
    }

    public String version() {
        return model.manifest().model().version();
    }

    public State state() {
        if (closed.getCount() == 0) {
            return State.CLOSED;
        }
        return retired.get() ? State.DRAINING : State.READY;
    }

    /** Requests scoring with this model now. */
    public int inFlight() {
        return Math.max(0, references.get() - (retired.get() ? 0 : 1));
    }

    /**
     * For work on this very version besides requests (applying a delta): it stays open until the lease is closed.
     *
     * @return a lease, or {@code null} when the model has already been closed
     */
    public ModelLease tryLease() {
        while (true) {
            int count = references.get();
            if (count == 0) {
                return null;
            }
            if (references.compareAndSet(count, count + 1)) {
                return new ModelLease(this);
            }
        }
    }

    void release() {
        if (references.decrementAndGet() == 0) {
            try {
                model.close();
            } finally {
                closed.countDown();
                onClosed.accept(this);
            }
        }
    }

    /** Stops serving: closes now without requests in flight, otherwise when the last of them ends. */
    void retire() {
        if (retired.compareAndSet(false, true)) {
            release();
        }
    }

    /** @return whether the session and the store were closed within the timeout */
    public boolean awaitClosed(Duration timeout) throws InterruptedException {
        return closed.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }
}
