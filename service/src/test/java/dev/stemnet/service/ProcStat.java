package dev.stemnet.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's or thread's scheduling and CPU time as the kernel reports them in {@code /proc/.../stat} (proc(5)). */
public final class ProcStat {

    /** The {@code SCHED_IDLE} scheduling policy's number. */
    public static final int SCHED_IDLE = 5;

    private ProcStat() {}

    /**
     * @param stat a {@code /proc/.../stat} file, e.g. {@code /proc/thread-self/stat}
     * @return its field 19, the nice value
     * @throws java.nio.file.NoSuchFileException when the thread or process has exited
     */
    public static int nice(Path stat) throws IOException {
        return field(stat, 19);
    }

    /**
     * @param stat as for {@link #nice}
     * @return its field 41, the scheduling policy: 0 for {@code SCHED_OTHER}, {@link #SCHED_IDLE}, ...
     */
    public static int schedulingPolicy(Path stat) throws IOException {
        return field(stat, 41);
    }

    /**
     * @param stat as for {@link #nice}
     * @return its fields 14 and 15, user and system time, added up, in nanoseconds (counted in clock ticks of 1/100 s)
     */
    public static long cpuNanos(Path stat) throws IOException {
        // One read for both fields: two reads would add utime and stime from two different moments.
        String[] fields = fields(stat);
        return (Long.parseLong(field(fields, 14)) + Long.parseLong(field(fields, 15))) * 10_000_000L;
    }

    private static int field(Path stat, int number) throws IOException {
        return Integer.parseInt(field(fields(stat), number));
    }

    /** The fields after the parenthesised command name, which may itself hold spaces: field 3 (state) on. */
    private static String[] fields(Path stat) throws IOException {
        String line = Files.readString(stat);
        return line.substring(line.lastIndexOf(')') + 2).split(" ");
    }

    private static String field(String[] fieldsFromThird, int number) {
        return fieldsFromThird[number - 3];
    }
}
