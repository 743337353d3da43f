package dev.stemnet.service.bundle;

import jakarta.validation.Validator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Parses {@code manifest.json} and rejects it unless it is format version 1 with every required key. */
final class ManifestReader {

    static final String MANIFEST_FILE = "manifest.json";

    // Keys the contract does not name are not part of it, so they are ignored rather than refused.
    private final JsonMapper mapper = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();
    private final Validator validator;

    ManifestReader(Validator validator) {
        this.validator = validator;
    }

    Manifest read(Path bundleDir) {
        Path file = bundleDir.resolve(MANIFEST_FILE);
        if (!Files.isRegularFile(file)) {
            throw new InvalidBundleException(MANIFEST_FILE + " not found in " + bundleDir);
        }
        try {
            JsonNode tree = mapper.readTree(file);
            // Checked before mapping: another format version may not fit the version 1 records at all.
            checkFormatVersion(tree.get("formatVersion"));
            Manifest manifest = mapper.treeToValue(tree, Manifest.class);
            checkConstraints(manifest);
            return manifest;
        } catch (JacksonException e) {
            throw new InvalidBundleException(MANIFEST_FILE + ": cannot read "
                    + e.getPathReference() + ": " + e.getOriginalMessage(), e);
        }
    }

    private static void checkFormatVersion(JsonNode formatVersion) {
        if (formatVersion == null || !formatVersion.isInt()
                || formatVersion.intValue() != Manifest.SUPPORTED_FORMAT_VERSION) {
            throw new InvalidBundleException(MANIFEST_FILE + ": formatVersion is " + formatVersion
                    + ", this service reads formatVersion " + Manifest.SUPPORTED_FORMAT_VERSION + " only");
        }
    }

    private void checkConstraints(Manifest manifest) {
        var violations = validator.validate(manifest);
        if (!violations.isEmpty()) {
            String problems = violations.stream()
                    .map(v -> v.getPropertyPath() + " " + v.getMessage())
                    .sorted()
                    .collect(Collectors.joining("; "));
            throw new InvalidBundleException(MANIFEST_FILE + ": " + problems);
        }
    }
}
