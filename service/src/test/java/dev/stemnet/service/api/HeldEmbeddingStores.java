package dev.stemnet.service.api;

import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.embedding.EmbeddingStore;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;

/**
 * Embedding stores (the bundle's mapped files) whose next fetch a test can hold: the request making it stops
 * inside scoring, holding its admission slot, until the test lets it go. {@code @Import} {@link Wiring} into
 * a service test to put it in the place of the service's store factory.
 */
public final class HeldEmbeddingStores implements EmbeddingStoreFactory {

    @TestConfiguration(proxyBeanMethods = false)
    public static class Wiring {
        /** Primary, so the model loader takes it over the service's own factory; warm-up fetches go through. */
        @Bean
        @Primary
        HeldEmbeddingStores heldEmbeddingStores() {
            return new HeldEmbeddingStores();
        }
    }

    private final EmbeddingStoreFactory mappedFiles = EmbeddingStoreFactory.mappedFiles();
    private final AtomicReference<Hold> next = new AtomicReference<>();

    /**
     * The next fetch of any served request (not of a shadow) waits in the store until {@link Hold#release()} (or
     * {@code atMost}).
     */
    public Hold holdNextFetch(Duration atMost) {
        return holdNextFetchExceptOf(null, atMost);
    }

    /**
     * As {@link #holdNextFetch}, but the request held by {@code earlier} passes: it fetches one table after another,
     * and its later fetches must not take this hold.
     */
    public Hold holdNextFetchExceptOf(Hold earlier, Duration atMost) {
        Hold hold = new Hold(atMost, earlier == null ? null : earlier.thread);
        next.set(hold);
        return hold;
    }

    @Override
    public EmbeddingStore open(ModelBundle bundle) {
        EmbeddingStore rows = mappedFiles.open(bundle);
        return new EmbeddingStore() {
            @Override
            public void fetchRows(String table, long[] rowIds, float[] destination) {
                // Only a served request's fetch: a shadow scoring an earlier request must not take the hold.
                Thread current = Thread.currentThread();
                Hold hold = next.get();
                if (hold != null && !current.getName().startsWith("shadow-scoring") && hold.passes != current
                        && next.compareAndSet(hold, null)) {
                    hold.block();
                }
                rows.fetchRows(table, rowIds, destination);
            }

            @Override
            public void close() {
                rows.close();
            }
        };
    }

    /** One held fetch. */
    public static final class Hold {
        private final Duration atMost;
        /** The thread of an earlier hold's request, which this hold lets through; null: none. */
        private final Thread passes;
        private final CountDownLatch entered = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);
        private volatile Thread thread;

        private Hold(Duration atMost, Thread passes) {
            this.atMost = atMost;
            this.passes = passes;
        }

        /** @return whether a request reached the store within the timeout and is held there now */
        public boolean awaitEntered(Duration timeout) throws InterruptedException {
            return entered.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        public void release() {
            released.countDown();
        }

        /** A store slower than any deadline when nobody releases it: waits {@code atMost} at most. */
        private void block() {
            thread = Thread.currentThread();
            entered.countDown();
            try {
                released.await(atMost.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
