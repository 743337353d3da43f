package dev.stemnet.service.bundle;

import dev.stemnet.service.bundle.Manifest.FieldSpec;
import jakarta.validation.Validator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Loads a bundle directory and trusts nothing it has not checked: manifest keys and cross references,
 * the sha256 of every file, table sizes and vocabulary sizes. Any mismatch is an {@link InvalidBundleException}.
 */
public final class BundleLoader {

    private final ManifestReader manifestReader;

    public BundleLoader(Validator validator) {
        this.manifestReader = new ManifestReader(validator);
    }

    public ModelBundle load(Path directory) {
        Path bundleDir = directory.toAbsolutePath().normalize();
        if (!Files.isDirectory(bundleDir)) {
            throw new InvalidBundleException("bundle directory " + bundleDir + " does not exist");
        }
        Manifest manifest = manifestReader.read(bundleDir);
        ManifestConsistency.check(manifest);
        BundleFiles.verify(bundleDir, manifest);
        return new ModelBundle(bundleDir, manifest, readVocabularies(bundleDir, manifest));
    }

    private static Map<String, Vocabulary> readVocabularies(Path bundleDir, Manifest manifest) {
        Map<String, Vocabulary> vocabularies = new HashMap<>();
        for (FieldSpec field : manifest.fields()) {
            Vocabulary vocabulary = readVocabulary(bundleDir, field);
            if (vocabulary.size() != field.vocabSize()) {
                throw new InvalidBundleException(field.vocabulary() + ": " + (vocabulary.size() - 1)
                        + " values, but field '" + field.name() + "' has vocabSize " + field.vocabSize()
                        + " (values + 1 OOV row)");
            }
            vocabularies.put(field.name(), vocabulary);
        }
        return vocabularies;
    }

    private static Vocabulary readVocabulary(Path bundleDir, FieldSpec field) {
        try {
            return Vocabulary.read(BundleFiles.resolve(bundleDir, field.vocabulary()));
        } catch (IOException | IllegalArgumentException e) {
            throw new InvalidBundleException(field.vocabulary() + ": " + e.getMessage(), e);
        }
    }
}
