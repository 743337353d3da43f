package dev.stemnet.service.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.ProcStat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ThreadPriorityTest {

    private interface StatField {
        int read(Path stat) throws IOException;
    }

    private static int ofThisThread(StatField field) {
        try {
            return field.read(Path.of("/proc/thread-self/stat"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int threadNice() {
        return ofThisThread(ProcStat::nice);
    }

    private static int threadPolicy() {
        return ofThisThread(ProcStat::schedulingPolicy);
    }

    @Test
    void aThreadLowersItsOwnPriorityAndNoOtherThreads() throws Exception {
        int callerNice = threadNice();
        CompletableFuture<Integer> lowered = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            Optional<String> failure = ThreadPriority.setNiceOfCurrentThread(Math.min(callerNice + 7, 19));
            lowered.complete(failure.isEmpty() ? threadNice() : -100);
        });
        thread.start();

        assertThat(lowered.get(30, TimeUnit.SECONDS)).isEqualTo(Math.min(callerNice + 7, 19));
        assertThat(threadNice()).as("the caller's own nice value").isEqualTo(callerNice);
    }

    @Test
    void aRefusedChangeSaysWhy() throws Exception {
        CompletableFuture<Optional<String>> raised = new CompletableFuture<>();
        // Lowering a nice value (raising priority) needs CAP_SYS_NICE; a thread at 19 asking for -20 may be refused,
        // and when it is allowed (root), the value must really change.
        Thread thread = new Thread(() -> {
            ThreadPriority.setNiceOfCurrentThread(19);
            Optional<String> failure = ThreadPriority.setNiceOfCurrentThread(-20);
            raised.complete(failure.isPresent() ? failure : Optional.of("nice " + threadNice()));
        });
        thread.start();

        assertThat(raised.get(30, TimeUnit.SECONDS).orElseThrow()).matches("setpriority\\(-20\\) failed: .+|nice -20");
    }

    @Test
    void aThreadMovesItselfIntoTheIdleClassKeepingItsNiceValueAndNoOtherThreadMoves() throws Exception {
        int callerPolicy = threadPolicy();
        CompletableFuture<int[]> moved = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            ThreadPriority.setNiceOfCurrentThread(19);
            Optional<String> failure = ThreadPriority.setIdleClassOfCurrentThread();
            moved.complete(failure.isEmpty() ? new int[] {threadPolicy(), threadNice()} : new int[] {-1, -1});
        });
        thread.start();

        assertThat(moved.get(30, TimeUnit.SECONDS)).containsExactly(ProcStat.SCHED_IDLE, 19);
        assertThat(threadPolicy()).as("the caller's own policy").isEqualTo(callerPolicy).isNotEqualTo(ProcStat.SCHED_IDLE);
    }
}
