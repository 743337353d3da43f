package dev.stemnet.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's or thread's Linux nice value as the kernel reports it. */
public final class NiceValue {

    private NiceValue() {}

    /**
     * @param stat a {@code /proc/.../stat} file, e.g. {@code /proc/thread-self/stat}
     * @return its field 19, the nice value
     * @throws java.nio.file.NoSuchFileException when the thread or process has exited
     */
    public static int of(Path stat) throws IOException {
        String line = Files.readString(stat);
        // Fields after the parenthesised command name, which may itself hold spaces: state is field 3, nice 19.
        return Integer.parseInt(line.substring(line.lastIndexOf(')') + 2).split(" ")[16]);
    }
}
