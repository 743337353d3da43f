package dev.stemnet.service.bundle;

import java.nio.file.Path;
import java.util.Map;

/** A bundle that passed every check: its manifest, its directory and the vocabularies by field name. */
public record ModelBundle(Path directory, Manifest manifest, Map<String, Vocabulary> vocabularies) {

    public ModelBundle {
        vocabularies = Map.copyOf(vocabularies);
    }

    /** A file the manifest names, already known to exist inside the bundle. */
    public Path file(String relativePath) {
        return BundleFiles.resolve(directory, relativePath);
    }

    public Vocabulary vocabulary(String field) {
        return vocabularies.get(field);
    }
}
