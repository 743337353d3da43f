package dev.stemnet.service;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Bounded polling for conditions that come true on another thread without telling anyone. */
public final class Polling {

    private static final long INTERVAL_NANOS = Duration.ofMillis(20).toNanos();

    private Polling() {}

    /** @return whether {@code condition} became true within {@code timeout} */
    public static boolean until(Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(INTERVAL_NANOS);
        }
        return true;
    }
}
