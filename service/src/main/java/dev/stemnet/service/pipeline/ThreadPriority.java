package dev.stemnet.service.pipeline;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.Optional;

/**
 * The scheduling priority (nice value) of the calling thread. On Linux a nice value belongs to a thread, not to the
 * process (setpriority(2), NOTES), so work that must never slow the served traffic, shadow scoring, runs on threads
 * of their own at a higher nice value: the kernel then hands a core to a serving thread, or to the clients on the same
 * machine, as soon as one wants it, and the shadow threads get what is left. Java's own {@code Thread.setPriority}
 * does nothing on Linux unless the whole JVM runs with {@code -XX:ThreadPriorityPolicy=1} as root.
 */
final class ThreadPriority {

    private static final int PRIO_PROCESS = 0;

    private interface LibC extends Library {
        int gettid();

        int setpriority(int which, int who, int prio) throws LastErrorException;
    }

    private ThreadPriority() {}

    /**
     * Sets the calling thread's nice value; a thread may always lower its own priority.
     *
     * @return empty when set, otherwise why it could not be (not Linux, or the C library refused)
     */
    static Optional<String> setNiceOfCurrentThread(int nice) {
        try {
            LibC libc = Native.load("c", LibC.class);
            libc.setpriority(PRIO_PROCESS, libc.gettid(), nice);
            return Optional.empty();
        } catch (LastErrorException | UnsatisfiedLinkError e) {
            return Optional.of("setpriority(" + nice + ") failed: " + e.getMessage());
        }
    }
}
