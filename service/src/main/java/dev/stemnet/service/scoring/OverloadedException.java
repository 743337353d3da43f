package dev.stemnet.service.scoring;

/** Every scoring slot is busy and the queue in front of them is full: the request is shed at once. */
public class OverloadedException extends RuntimeException {

    public OverloadedException(int maxConcurrent, int maxQueued) {
        super("overloaded: " + maxConcurrent + " requests are being scored and " + maxQueued
                + " are waiting (stem.scoring.max-concurrent, stem.scoring.max-queued); retry later");
    }
}
