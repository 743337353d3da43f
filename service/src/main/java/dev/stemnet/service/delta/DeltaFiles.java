package dev.stemnet.service.delta;

import java.nio.file.Path;
import java.time.Instant;

/** A delta directory whose delta.json was read and whose files all exist and match their sha256. */
public record DeltaFiles(Path directory, DeltaManifest manifest, Instant createdAt) {

    /** A file delta.json names; {@link DeltaReader} has checked it is inside the directory. */
    public Path file(String relativePath) {
        return directory.resolve(relativePath).normalize();
    }
}
