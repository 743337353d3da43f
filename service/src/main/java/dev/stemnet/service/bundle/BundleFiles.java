package dev.stemnet.service.bundle;

import dev.stemnet.service.bundle.Manifest.TableSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * Checks the files next to the manifest: each listed file exists, matches its sha256, and tables have their size.
 * Deltas use its {@link #sha256} for their own files.
 */
public final class BundleFiles {

    private static final int READ_BUFFER_BYTES = 1 << 20;

    private BundleFiles() {}

    static void verify(Path bundleDir, Manifest manifest) {
        for (Map.Entry<String, String> entry : manifest.files().entrySet()) {
            Path file = resolve(bundleDir, entry.getKey());
            String actual = sha256(file);
            if (!actual.equals(entry.getValue())) {
                throw new InvalidBundleException(entry.getKey() + ": sha256 is " + actual
                        + " but manifest.json files lists " + entry.getValue());
            }
        }
        for (TableSpec table : manifest.tables()) {
            long actualBytes = size(resolve(bundleDir, table.file()));
            if (actualBytes != table.sizeInBytes()) {
                throw new InvalidBundleException(table.file() + ": " + actualBytes + " bytes, but table '"
                        + table.name() + "' has " + table.rows() + " rows x " + table.dim()
                        + " dims x 4 bytes = " + table.sizeInBytes() + " bytes");
            }
        }
    }

    /** Resolves a manifest path, refusing paths that leave the bundle directory or name no regular file. */
    static Path resolve(Path bundleDir, String relativePath) {
        Path file = bundleDir.resolve(relativePath).normalize();
        if (!file.startsWith(bundleDir)) {
            throw new InvalidBundleException(relativePath + ": path leaves the bundle directory");
        }
        if (!Files.isRegularFile(file)) {
            throw new InvalidBundleException(relativePath + ": file listed in manifest.json is missing");
        }
        return file;
    }

    /** Lower-case hex, as manifests and deltas list it. */
    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[READ_BUFFER_BYTES];
            for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
                digest.update(buffer, 0, read);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides SHA-256", e);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
