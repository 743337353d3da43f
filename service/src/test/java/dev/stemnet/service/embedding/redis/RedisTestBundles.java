package dev.stemnet.service.embedding.redis;

import dev.stemnet.service.TestBundle;
import dev.stemnet.service.bundle.BundleLoader;
import dev.stemnet.service.bundle.Manifest.TableSpec;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.embedding.MappedFileEmbeddingStore;
import jakarta.validation.Validation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The test bundle, checked, and what the Redis tests compare Redis against. */
final class RedisTestBundles {

    private static final BundleLoader LOADER = new BundleLoader(Validation.buildDefaultValidatorFactory().getValidator());
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private RedisTestBundles() {}

    static ModelBundle testBundle() {
        return checked(TestBundle.directory());
    }

    static ModelBundle checked(Path directory) {
        return LOADER.load(directory);
    }

    static RedisKeyLayout layoutOf(ModelBundle bundle) {
        return new RedisKeyLayout(bundle.manifest().model().name(), bundle.manifest().model().version());
    }

    /** Every row of {@code table} as the bundle's file holds it, row after row. */
    static float[] allRows(ModelBundle bundle, TableSpec table) {
        float[] rows = new float[Math.toIntExact(table.rows() * table.dim())];
        try (MappedFileEmbeddingStore files =
                new MappedFileEmbeddingStore(bundle.manifest().tables(), spec -> bundle.file(spec.file()))) {
            files.fetchRows(table.name(), allRowNumbers(table), rows);
        }
        return rows;
    }

    static long[] allRowNumbers(TableSpec table) {
        long[] numbers = new long[Math.toIntExact(table.rows())];
        for (int i = 0; i < numbers.length; i++) {
            numbers[i] = i;
        }
        return numbers;
    }

    /**
     * A valid copy of the test bundle as another version of the same model whose {@code table} holds every
     * value negated, so that rows read back show which version they came from.
     */
    static ModelBundle otherVersion(Path target, String version, TableSpec table) {
        Path copy = TestBundle.copyTo(target);
        try {
            Path tableFile = copy.resolve(table.file());
            ByteBuffer values = ByteBuffer.wrap(Files.readAllBytes(tableFile)).order(ByteOrder.LITTLE_ENDIAN);
            for (int offset = 0; offset < values.limit(); offset += Float.BYTES) {
                values.putFloat(offset, -values.getFloat(offset));
            }
            Files.write(tableFile, values.array());

            ObjectNode manifest = (ObjectNode) JSON.readTree(copy.resolve("manifest.json"));
            ((ObjectNode) manifest.get("model")).put("version", version);
            ((ObjectNode) manifest.get("files")).put(table.file(), sha256(values.array()));
            Files.writeString(copy.resolve("manifest.json"), JSON.writeValueAsString(manifest));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return LOADER.load(copy);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
