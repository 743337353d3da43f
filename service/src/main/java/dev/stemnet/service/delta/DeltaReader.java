package dev.stemnet.service.delta;

import dev.stemnet.service.bundle.BundleFiles;
import dev.stemnet.service.delta.DeltaManifest.FieldGrowth;
import dev.stemnet.service.delta.DeltaManifest.TableChange;
import jakarta.validation.Validator;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The first two checks of a delta: {@code unreadable} (delta.json parses, is format version 1 with every required
 * key, every file it lists or names exists inside the directory) and {@code checksum} (every file it names has a
 * sha256 listed, and every listed sha256 matches). What the files hold is read later, once the delta is known to
 * be for this model and next in order.
 */
public final class DeltaReader {

    public static final String DELTA_FILE = "delta.json";

    // Keys the contract does not name are not part of it, so they are ignored rather than refused.
    private static final JsonMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final Validator validator;

    public DeltaReader(Validator validator) {
        this.validator = validator;
    }

    /** @throws DeltaRefusedException {@code unreadable} or {@code checksum} */
    public DeltaFiles read(Path directory) {
        Path deltaDir = directory.toAbsolutePath().normalize();
        DeltaManifest manifest = parse(deltaDir);
        Instant createdAt;
        try {
            createdAt = Instant.parse(manifest.createdAt());
        } catch (DateTimeParseException e) {
            throw unreadable(DELTA_FILE + ": createdAt '" + manifest.createdAt() + "' is not an ISO-8601 instant"
                    + " such as 2026-12-04T12:00:00Z");
        }
        List<String> referenced = referencedFiles(manifest);
        for (String file : referenced) {
            requireFile(deltaDir, file, "named in " + DELTA_FILE);
        }
        for (String file : manifest.files().keySet()) {
            requireFile(deltaDir, file, "listed in " + DELTA_FILE + " files");
        }
        for (String file : referenced) {
            if (!manifest.files().containsKey(file)) {
                throw new DeltaRefusedException(DeltaRefusal.CHECKSUM, DELTA_FILE + ": files has no sha256 for '"
                        + file + "'");
            }
        }
        for (Map.Entry<String, String> entry : manifest.files().entrySet()) {
            String actual = sha256(deltaDir.resolve(entry.getKey()).normalize());
            if (!actual.equals(entry.getValue())) {
                throw new DeltaRefusedException(DeltaRefusal.CHECKSUM, entry.getKey() + ": sha256 is " + actual
                        + " but " + DELTA_FILE + " files lists " + entry.getValue());
            }
        }
        return new DeltaFiles(deltaDir, manifest, createdAt);
    }

    private DeltaManifest parse(Path deltaDir) {
        Path file = deltaDir.resolve(DELTA_FILE);
        if (!Files.isRegularFile(file)) {
            throw unreadable(DELTA_FILE + " not found in " + deltaDir.getFileName());
        }
        DeltaManifest manifest;
        try {
            JsonNode tree = JSON.readTree(file);
            JsonNode formatVersion = tree.get("formatVersion");
            // Checked before mapping: another format version may not fit the version 1 records at all.
            if (formatVersion == null || !formatVersion.isInt()
                    || formatVersion.intValue() != DeltaManifest.SUPPORTED_FORMAT_VERSION) {
                throw unreadable(DELTA_FILE + ": formatVersion is " + formatVersion + ", this service reads"
                        + " formatVersion " + DeltaManifest.SUPPORTED_FORMAT_VERSION + " only");
            }
            manifest = JSON.treeToValue(tree, DeltaManifest.class);
        } catch (JacksonException e) {
            throw unreadable(DELTA_FILE + ": cannot read " + e.getPathReference() + ": " + e.getOriginalMessage());
        }
        var violations = validator.validate(manifest);
        if (!violations.isEmpty()) {
            throw unreadable(DELTA_FILE + ": " + violations.stream()
                    .map(v -> v.getPropertyPath() + " " + v.getMessage())
                    .sorted()
                    .collect(Collectors.joining("; ")));
        }
        return manifest;
    }

    private static List<String> referencedFiles(DeltaManifest manifest) {
        List<String> files = new ArrayList<>();
        manifest.fields().stream().map(FieldGrowth::vocabulary).forEach(files::add);
        for (TableChange table : manifest.tables()) {
            files.add(table.rows());
            files.add(table.values());
        }
        files.add(manifest.parityFixtures());
        return files;
    }

    private static void requireFile(Path deltaDir, String relativePath, String how) {
        Path file = deltaDir.resolve(relativePath).normalize();
        if (!file.startsWith(deltaDir) || file.equals(deltaDir)) {
            throw unreadable(relativePath + " (" + how + "): path leaves the delta directory");
        }
        if (!Files.isRegularFile(file)) {
            throw unreadable(relativePath + " (" + how + ") is missing");
        }
    }

    private static String sha256(Path file) {
        try {
            return BundleFiles.sha256(file);
        } catch (UncheckedIOException e) {
            throw unreadable(file.getFileName() + ": " + e.getCause().getMessage());
        }
    }

    private static DeltaRefusedException unreadable(String message) {
        return new DeltaRefusedException(DeltaRefusal.UNREADABLE, message);
    }
}
