package dev.stemnet.service.delta;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/** The latest delta attempts of one model version, oldest first, for the admin view; a bounded number. */
public final class DeltaLog {

    static final int KEPT = 20;

    private final Deque<DeltaAttempt> attempts = new ArrayDeque<>();

    public synchronized void add(DeltaAttempt attempt) {
        if (attempts.size() == KEPT) {
            attempts.removeFirst();
        }
        attempts.addLast(attempt);
    }

    public synchronized List<DeltaAttempt> attempts() {
        return List.copyOf(attempts);
    }
}
