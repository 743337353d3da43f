package dev.stemnet.service;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The tiny bundle the Python trainer writes for these tests. Tests that need it fail, never skip, when it
 * is missing: a skipped contract test would let the service drift from the trainer unnoticed.
 */
public final class TestBundle {

    public static final String DIRECTORY_PROPERTY = "stem.test.bundle-dir";
    /** A repository with one tiny bundle per trainer architecture, each served under the architecture's name. */
    public static final String ARCHITECTURES_PROPERTY = "stem.test.architectures-dir";
    /** The test bundle quantized to int8, model name {@code stem-net-int8}. */
    public static final String INT8_PROPERTY = "stem.test.int8-bundle-dir";

    private static Path sharedRepository;

    private TestBundle() {}

    public static Path directory() {
        String configured = System.getProperty(DIRECTORY_PROPERTY);
        if (configured == null || configured.isBlank()) {
            fail("System property " + DIRECTORY_PROPERTY + " is not set; run the tests through Maven"
                    + " (the service pom sets it) or pass -D" + DIRECTORY_PROPERTY + "=<bundle dir>");
        }
        Path directory = Path.of(configured).toAbsolutePath().normalize();
        if (!Files.isRegularFile(directory.resolve("manifest.json"))) {
            fail("No test bundle at " + directory + ". Build it with `make test-bundle` (or run everything"
                    + " with `make test`) from the repository root.");
        }
        return directory;
    }

    /** The int8 copy of the test bundle; tests fail, never skip, without it. */
    public static Path int8Directory() {
        String configured = System.getProperty(INT8_PROPERTY);
        Path directory = Path.of(configured == null ? "" : configured).toAbsolutePath().normalize();
        if (configured == null || configured.isBlank() || !Files.isRegularFile(directory.resolve("manifest.json"))) {
            fail("No int8 test bundle at '" + directory + "' (system property " + INT8_PROPERTY + "). Build it with"
                    + " `make test-int8-bundle` (or run everything with `make test`) from the repository root.");
        }
        return directory;
    }

    /** The repository of one tiny bundle per architecture; tests fail, never skip, without it. */
    public static Path architecturesRepository() {
        String configured = System.getProperty(ARCHITECTURES_PROPERTY);
        Path directory = Path.of(configured == null ? "" : configured).toAbsolutePath().normalize();
        if (configured == null || configured.isBlank() || !Files.isDirectory(directory)) {
            fail("No repository of architecture bundles at '" + directory + "' (system property "
                    + ARCHITECTURES_PROPERTY + "). Build it with `make test-models` (or run everything with"
                    + " `make test`) from the repository root.");
        }
        return directory;
    }

    /**
     * A model repository holding a copy of the test bundle as {@code stem-net/}, made once per test JVM so that
     * every test that serves it shares one Spring context.
     */
    public static synchronized Path repository() {
        if (sharedRepository == null) {
            sharedRepository = emptyRepository("stem-test-repository");
            copyTo(sharedRepository.resolve("stem-net"));
        }
        return sharedRepository;
    }

    /** A new, empty temporary directory to serve as a model repository. */
    public static Path emptyRepository(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A new model repository of a test's own, holding the test bundle as {@code stem-net-0001/} with version
     * {@code v0001}: for tests that add, replace or break versions beside it.
     */
    public static Path repositoryOfItsOwn(String prefix) {
        Path repository = emptyRepository(prefix);
        copyWithVersion(repository.resolve("stem-net-0001"), "v0001");
        return repository;
    }

    /** A copy of the test bundle whose manifest says {@code version}; files and checksums stay as they are. */
    public static Path copyWithVersion(Path target, String version) {
        copyTo(target);
        setVersion(target, version);
        return target;
    }

    /** Rewrites the manifest's model version; the checksums cover the other files, not the manifest. */
    public static void setVersion(Path bundle, String version) {
        try {
            Path manifest = bundle.resolve("manifest.json");
            String text = Files.readString(manifest);
            Files.writeString(manifest, text.replaceFirst("\"version\": \"[^\"]*\"", "\"version\": \"" + version + "\""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A temporary directory with {@code models/stem-net} and {@code models/mmoe} (the test bundle under a second name)
     * and {@code experiments.yaml} holding {@code experimentFile}: two models to split or shadow.
     */
    public static Path twoModelsAndExperiments(String prefix, String experimentFile) {
        try {
            Path root = Files.createTempDirectory(prefix);
            copyTo(root.resolve("models/stem-net"));
            copyAsModel(root.resolve("models/mmoe"), "mmoe");
            Files.writeString(root.resolve("experiments.yaml"), experimentFile);
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A copy served under another model name, e.g. a second arm or a shadow. */
    public static Path copyAsModel(Path target, String modelName) {
        copyTo(target);
        try {
            Path manifest = target.resolve("manifest.json");
            Files.writeString(manifest, Files.readString(manifest)
                    .replaceFirst("\"name\": \"stem-net\"", "\"name\": \"" + modelName + "\""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }

    /** A private copy to corrupt. */
    public static Path copyTo(Path target) {
        return copy(directory(), target);
    }

    /** A copy of the bundle at {@code source}. */
    public static Path copy(Path source, Path target) {
        try (Stream<Path> paths = Files.walk(source)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                Path copy = target.resolve(source.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    // Also the target itself, which may not exist yet.
                    Files.createDirectories(copy);
                } else {
                    Files.copy(path, copy);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }
}
