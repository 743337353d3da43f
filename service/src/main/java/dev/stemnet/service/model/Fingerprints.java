package dev.stemnet.service.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Names, sizes and modification times of every file under a directory: cheap, and a directory still being copied
 * in gets a new fingerprint once the copy is complete, so it is tried again.
 */
final class Fingerprints {

    private Fingerprints() {}

    static String of(Path directory) {
        return of(directory, null);
    }

    /** @param excluded a subdirectory left out (a bundle's {@code deltas/}), or null */
    static String of(Path directory, Path excluded) {
        try (Stream<Path> files = Files.walk(directory)) {
            StringBuilder fingerprint = new StringBuilder();
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                if (excluded != null && file.startsWith(excluded)) {
                    continue;
                }
                fingerprint.append(directory.relativize(file)).append(':').append(Files.size(file)).append(':')
                        .append(Files.getLastModifiedTime(file).toMillis()).append('\n');
            }
            return fingerprint.toString();
        } catch (IOException e) {
            // A directory changing while it is walked: a fingerprint that matches nothing gets it tried again.
            return "unreadable: " + e.getMessage();
        }
    }
}
