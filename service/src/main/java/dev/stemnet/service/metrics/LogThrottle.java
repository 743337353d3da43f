package dev.stemnet.service.metrics;

import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Lets one log line per key through per interval and counts the ones held back. During an outage every
 * request fails the same way; one line per failure would flood the log with thousands of copies a second.
 */
public final class LogThrottle {

    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    /** @param nanoClock {@link System#nanoTime} in the service; a clock the test moves by hand in tests */
    public LogThrottle(Duration interval, LongSupplier nanoClock) {
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
    }

    /**
     * @return empty when this occurrence is not to be logged, otherwise how many occurrences of {@code key}
     *         were held back since the last one logged
     */
    public OptionalLong admit(String key) {
        return windows.computeIfAbsent(key, k -> new Window()).admit(nanoClock.getAsLong());
    }

    private final class Window {
        private boolean loggedBefore;
        private long lastLoggedNanos;
        private long suppressed;

        synchronized OptionalLong admit(long now) {
            if (loggedBefore && now - lastLoggedNanos < intervalNanos) {
                suppressed++;
                return OptionalLong.empty();
            }
            long heldBack = suppressed;
            loggedBefore = true;
            lastLoggedNanos = now;
            suppressed = 0;
            return OptionalLong.of(heldBack);
        }
    }
}
