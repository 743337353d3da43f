package dev.stemnet.service.delta.redis;

import dev.stemnet.service.delta.DeltaContents;
import dev.stemnet.service.delta.DeltaManifest;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * A delta as Redis keeps it, {@code stem:<model>:<version>:delta:<sequence>} (JSON): everything a replica needs to
 * apply it, the rows' values excepted, which the loader wrote into the row keys themselves.
 *
 * @param delta          its delta.json, as the trainer wrote it
 * @param addedValues    the values added per field, in index order
 * @param rows           the rows it wrote per table, strictly ascending: appended ones and changed existing ones (a
 *                       replica evicts the changed ones from its row caches)
 * @param parityFixtures its parity.jsonl, one fixture per entry: a replica that loads the version after this delta
 *                       checks these instead of the bundle's, whose rows it changed
 * @param loadedAt       when the loader wrote it
 */
public record RedisDeltaRecord(DeltaManifest delta, Map<String, List<String>> addedValues, Map<String, long[]> rows,
        List<String> parityFixtures, Instant loadedAt) {

    private static final JsonMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    public static RedisDeltaRecord of(DeltaManifest delta, DeltaContents contents, Instant loadedAt) {
        return new RedisDeltaRecord(delta, contents.addedValues(), contents.rows(), contents.fixtureLines(), loadedAt);
    }

    public static RedisDeltaRecord fromJson(byte[] json) {
        return JSON.readValue(json, RedisDeltaRecord.class);
    }

    public byte[] toJson() {
        return JSON.writeValueAsBytes(this);
    }

    public long sequence() {
        return delta.sequence();
    }

    public Instant createdAt() {
        return Instant.parse(delta.createdAt());
    }

    /** What the consistency check reads: no values, Redis holds them. */
    public DeltaContents contents() {
        return new DeltaContents(addedValues, rows, null, parityFixtures);
    }
}
