package dev.stemnet.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LastIdleFirstExecutorTest {

    private static final long WAIT_SECONDS = 10;

    private LastIdleFirstExecutor executor;

    @AfterEach
    void close() {
        if (executor != null) {
            executor.close();
        }
    }

    @Test
    void handsWorkToTheThreadThatWentIdleLast() throws Exception {
        executor = new LastIdleFirstExecutor(4, "test-exec-");
        CountDownLatch bothRunning = new CountDownLatch(2);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        CountDownLatch releaseSecond = new CountDownLatch(1);
        AtomicReference<Thread> first = new AtomicReference<>();
        AtomicReference<Thread> second = new AtomicReference<>();
        executor.execute(() -> {
            first.set(Thread.currentThread());
            bothRunning.countDown();
            await(releaseFirst);
        });
        executor.execute(() -> {
            second.set(Thread.currentThread());
            bothRunning.countDown();
            await(releaseSecond);
        });
        assertThat(bothRunning.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(first.get()).isNotSameAs(second.get());
        assertThat(executor.busyThreads()).isEqualTo(2);

        // The second thread goes idle after the first: it is the one handed the next task, every time.
        releaseFirst.countDown();
        awaitIdle(1);
        releaseSecond.countDown();
        awaitIdle(2);
        for (int i = 0; i < 5; i++) {
            assertThat(threadRunning()).isSameAs(second.get());
            awaitIdle(2);
        }
        assertThat(executor.threads()).isEqualTo(2);
        assertThat(executor.busyThreads()).isZero();
    }

    @Test
    void queuesWorkBeyondItsThreadsInOrderOfArrivalInsteadOfRefusingIt() throws Exception {
        executor = new LastIdleFirstExecutor(1, "test-exec-");
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(4);
        List<Integer> order = new CopyOnWriteArrayList<>();
        executor.execute(() -> {
            await(release);
            done.countDown();
        });
        for (int i = 1; i <= 3; i++) {
            int task = i;
            executor.execute(() -> {
                order.add(task);
                done.countDown();
            });
        }
        release.countDown();
        assertThat(done.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(order).containsExactly(1, 2, 3);
        assertThat(executor.threads()).isEqualTo(1);
    }

    @Test
    void aTaskThatThrowsLeavesItsThreadServing() throws Exception {
        executor = new LastIdleFirstExecutor(1, "test-exec-");
        AtomicReference<Thread> threw = new AtomicReference<>();
        executor.execute(() -> {
            threw.set(Thread.currentThread());
            throw new IllegalStateException("a bug in a task, reported by the thread's handler");
        });
        awaitIdle(1);
        assertThat(threadRunning()).isSameAs(threw.get());
        assertThat(executor.threads()).isEqualTo(1);
    }

    @Test
    void closeRefusesNewWorkAndEndsItsIdleThreads() throws Exception {
        executor = new LastIdleFirstExecutor(2, "test-exec-");
        Thread worker = threadRunning();
        awaitIdle(1);
        executor.close();
        worker.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        assertThat(worker.isAlive()).isFalse();
        assertThatThrownBy(() -> executor.execute(() -> { }))
                .isInstanceOf(RejectedExecutionException.class);
    }

    /** The thread the executor runs a task on. */
    private Thread threadRunning() throws InterruptedException {
        AtomicReference<Thread> ran = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        executor.execute(() -> {
            ran.set(Thread.currentThread());
            done.countDown();
        });
        assertThat(done.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        return ran.get();
    }

    /** Polls, bounded, until {@code count} threads wait for work: the executor's own state, not a sleep. */
    private void awaitIdle(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (executor.idleThreads() != count) {
            assertThat(System.nanoTime()).as("%d idle threads within %d s", count, WAIT_SECONDS).isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
