package dev.stemnet.service.pipeline;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.Optional;

/**
 * The scheduling priority of the calling thread: its nice value and its scheduling class. On Linux both belong to a
 * thread, not to the process (setpriority(2), NOTES; sched_setscheduler(2)), so work that must never slow the served
 * traffic, shadow scoring, runs on threads of their own at a lower priority: the kernel then hands a core to a serving
 * thread, or to the clients on the same machine, as soon as one wants it, and the shadow threads get what is left.
 * Java's own {@code Thread.setPriority} does nothing on Linux unless the whole JVM runs with
 * {@code -XX:ThreadPriorityPolicy=1} as root.
 */
final class ThreadPriority {

    private static final int PRIO_PROCESS = 0;
    private static final int SCHED_IDLE = 5;
    private static final int CALLING_THREAD = 0;

    private interface LibC extends Library {
        int gettid();

        int setpriority(int which, int who, int prio) throws LastErrorException;

        int sched_setscheduler(int pid, int policy, int[] param) throws LastErrorException;
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

    /**
     * Puts the calling thread in the {@code SCHED_IDLE} class, below every nice value. Beyond nice 19 it changes where
     * the kernel sends a thread that wakes up: a core that runs only {@code SCHED_IDLE} threads counts as idle, so a
     * serving thread or a client that wakes takes that core at once, instead of queueing behind a served request on
     * the other one (docs/performance.md, "Shadow traffic"). A thread may always move itself into this class.
     *
     * @return empty when set, otherwise why it could not be (not Linux, or the C library refused)
     */
    static Optional<String> setIdleClassOfCurrentThread() {
        try {
            Native.load("c", LibC.class).sched_setscheduler(CALLING_THREAD, SCHED_IDLE, new int[] {0});
            return Optional.empty();
        } catch (LastErrorException | UnsatisfiedLinkError e) {
            return Optional.of("sched_setscheduler(SCHED_IDLE) failed: " + e.getMessage());
        }
    }
}
