package dev.stemnet.service.delta;

import dev.stemnet.service.bundle.Vocabulary;
import dev.stemnet.service.delta.DeltaManifest.FieldGrowth;
import dev.stemnet.service.delta.DeltaManifest.TableChange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a delta's files hold: the values added per field, the rows written per table with their values, the parity
 * fixtures. A replica applying a delta record from Redis has no values: the loader wrote them into Redis already.
 *
 * @param values by table; null when the store underneath holds the rows already
 */
public record DeltaContents(Map<String, List<String>> addedValues, Map<String, long[]> rows, Map<String, float[]> values,
        List<String> fixtureLines) {

    /**
     * Reads every file of a checked delta into memory.
     *
     * @throws DeltaRefusedException {@code inconsistent} when a file's size does not fit its count
     */
    public static DeltaContents read(DeltaFiles files) {
        DeltaManifest manifest = files.manifest();
        Map<String, List<String>> added = new HashMap<>();
        for (FieldGrowth field : manifest.fields()) {
            try {
                added.put(field.name(), Vocabulary.readValues(files.file(field.vocabulary())));
            } catch (IOException e) {
                throw new DeltaRefusedException(DeltaRefusal.INCONSISTENT, field.vocabulary() + ": " + e.getMessage(), e);
            }
        }
        Map<String, long[]> rows = new HashMap<>();
        Map<String, float[]> values = new HashMap<>();
        for (TableChange table : manifest.tables()) {
            ByteBuffer rowBytes = bytes(files, table.rows(), table.count() * Long.BYTES, table.count() + " rows x 8 bytes");
            ByteBuffer valueBytes = bytes(files, table.values(), table.count() * table.dim() * Float.BYTES,
                    table.count() + " rows x " + table.dim() + " dims x 4 bytes");
            long[] tableRows = new long[Math.toIntExact(table.count())];
            rowBytes.asLongBuffer().get(tableRows);
            float[] tableValues = new float[Math.toIntExact(table.count() * table.dim())];
            valueBytes.asFloatBuffer().get(tableValues);
            rows.put(table.name(), tableRows);
            values.put(table.name(), tableValues);
        }
        try {
            return new DeltaContents(added, rows, values, Files.readAllLines(files.file(manifest.parityFixtures())));
        } catch (IOException e) {
            throw new DeltaRefusedException(DeltaRefusal.INCONSISTENT, manifest.parityFixtures() + ": " + e.getMessage(), e);
        }
    }

    private static ByteBuffer bytes(DeltaFiles files, String relativePath, long expectedBytes, String what) {
        Path file = files.file(relativePath);
        try {
            long size = Files.size(file);
            if (size != expectedBytes) {
                throw new DeltaRefusedException(DeltaRefusal.INCONSISTENT, relativePath + ": " + size + " bytes, but "
                        + what + " = " + expectedBytes + " bytes");
            }
            return ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new DeltaRefusedException(DeltaRefusal.UNREADABLE, relativePath + ": " + e.getMessage(), e);
        }
    }
}
