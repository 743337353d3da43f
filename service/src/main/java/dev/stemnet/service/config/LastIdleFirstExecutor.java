package dev.stemnet.service.config;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;

/**
 * The public port's worker threads, handing each request to the thread that went idle last.
 *
 * <p>Why not Tomcat's own executor: its idle threads wait on one queue and are woken in turn, so a request lands on
 * the thread that has idled longest, whose stack and ONNX Runtime's per-thread buffers have left the CPU caches in the
 * meantime. Handing work to the most recently idle thread keeps the few threads a load needs warm (docs/history/performance-2026-12.md,
 * "Serving overhead", measures it against Tomcat's executor). A JDK {@code SynchronousQueue} pool would hand off the
 * same way but refuses work when every thread is busy, and Tomcat closes the connection then; this executor queues
 * instead, like Tomcat's.
 *
 * <p>At most {@code maxThreads} threads, started as they are first needed and kept; work beyond them waits in order
 * of arrival. Never refuses work until {@link #close()}d.
 */
public final class LastIdleFirstExecutor implements Executor, AutoCloseable {

    private final int maxThreads;
    private final String namePrefix;
    private final ReentrantLock lock = new ReentrantLock();
    /** Idle workers, the most recently idle at the head. */
    private final ArrayDeque<Worker> idle = new ArrayDeque<>();
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    private int started;
    private boolean closed;

    LastIdleFirstExecutor(int maxThreads, String namePrefix) {
        if (maxThreads < 1) {
            throw new IllegalArgumentException("maxThreads must be at least 1, was " + maxThreads);
        }
        this.maxThreads = maxThreads;
        this.namePrefix = namePrefix;
    }

    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        Worker handedTo;
        Thread toStart = null;
        lock.lock();
        try {
            if (closed) {
                throw new RejectedExecutionException("executor closed");
            }
            handedTo = idle.pollFirst();
            if (handedTo != null) {
                handedTo.handed = task;
            } else if (started < maxThreads) {
                started++;
                toStart = new Worker(task).thread;
            } else {
                waiting.addLast(task);
                return;
            }
        } finally {
            lock.unlock();
        }
        if (toStart != null) {
            start(toStart);
        } else {
            LockSupport.unpark(handedTo.thread);
        }
    }

    /** A thread that cannot be created (native memory, ulimit) leaves the count as it was and refuses the task. */
    private void start(Thread thread) {
        try {
            thread.start();
        } catch (OutOfMemoryError e) {
            lock.lock();
            try {
                started--;
            } finally {
                lock.unlock();
            }
            throw new RejectedExecutionException("could not start worker thread " + thread.getName(), e);
        }
    }

    public int maxThreads() {
        return maxThreads;
    }

    /** Threads started so far. */
    public int threads() {
        return underLock(() -> started);
    }

    /** Threads waiting for work. */
    int idleThreads() {
        return underLock(idle::size);
    }

    /** Threads running a task: started and not idle, read at one instant. */
    public int busyThreads() {
        return underLock(() -> started - idle.size());
    }

    /** Work waiting for a thread: above 0 only while every thread is busy. */
    public int waiting() {
        return underLock(waiting::size);
    }

    private int underLock(IntSupplier read) {
        lock.lock();
        try {
            return read.getAsInt();
        } finally {
            lock.unlock();
        }
    }

    /** Refuses new work; idle threads end at once, busy ones after the work they hold and anything waiting. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            for (Worker worker : idle) {
                LockSupport.unpark(worker.thread);
            }
        } finally {
            lock.unlock();
        }
    }

    private final class Worker implements Runnable {

        final Thread thread;
        /** Set, under the lock, by {@code execute} to the task it hands this worker while it is idle. */
        volatile Runnable handed;

        Worker(Runnable first) {
            this.handed = first;
            this.thread = new Thread(this, namePrefix + started);
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            for (Runnable task = take(); task != null; task = next()) {
                try {
                    task.run();
                } catch (Throwable e) {
                    // Tomcat's socket processors handle their own failures; anything reaching here is a bug to
                    // report without losing the thread.
                    thread.getUncaughtExceptionHandler().uncaughtException(thread, e);
                }
            }
        }

        /** The next task: one waiting, else one handed to this worker once idle; null once closed. */
        private Runnable next() {
            lock.lock();
            try {
                Runnable task = waiting.pollFirst();
                if (task != null) {
                    return task;
                }
                if (closed) {
                    return null;
                }
                idle.addFirst(this);
            } finally {
                lock.unlock();
            }
            return take();
        }

        /** Parks until a task is handed over, or the executor closes while this worker is idle. */
        private Runnable take() {
            while (true) {
                Runnable task = handed;
                if (task != null) {
                    handed = null;
                    return task;
                }
                lock.lock();
                try {
                    if (closed && handed == null) {
                        idle.remove(this);
                        return null;
                    }
                } finally {
                    lock.unlock();
                }
                LockSupport.park(this);
            }
        }
    }
}
