package dev.stemnet.service.delta.redis;

import dev.stemnet.service.delta.DeltaAttempt;
import dev.stemnet.service.delta.DeltaChecks;
import dev.stemnet.service.delta.DeltaConsistency;
import dev.stemnet.service.delta.DeltaContents;
import dev.stemnet.service.delta.DeltaEvents;
import dev.stemnet.service.delta.DeltaFiles;
import dev.stemnet.service.delta.DeltaReader;
import dev.stemnet.service.delta.DeltaRefusal;
import dev.stemnet.service.delta.DeltaRefusedException;
import dev.stemnet.service.delta.DeltaTarget;
import dev.stemnet.service.delta.StagedParity;
import dev.stemnet.service.embedding.redis.RedisConnection;
import dev.stemnet.service.scoring.EmbeddingChange;
import dev.stemnet.service.scoring.EmbeddingChange.TableChange;
import dev.stemnet.service.scoring.EmbeddingState;
import dev.stemnet.service.scoring.ParityFixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Loads a delta into Redis for every replica: runs every check of the contract against what Redis holds (the base
 * bundle with the deltas already loaded: order, sizes, added values), scores the delta's fixtures with the rows in
 * Redis and the delta's rows staged in memory above them, and only then writes: the rows into the live row keys
 * (batches of {@code MSET}, each read back and compared), the record, the newest sequence, and the announcement on
 * the channel. A refused delta writes nothing. One loader at a time per model version ({@link RedisDeltaLoaderLock}):
 * a second one is turned away before it reads anything.
 */
public final class RedisDeltaLoader {

    /** Rows per MSET/MGET, as the bundle loader does. */
    static final int BATCH_ROWS = 1000;

    private final RedisConnection redis;
    private final DeltaReader reader;
    private final RedisRecordApplier history = new RedisRecordApplier(DeltaEvents.NONE, false);

    public RedisDeltaLoader(RedisConnection redis, DeltaReader reader) {
        this.redis = redis;
        this.reader = reader;
    }

    /**
     * @param sequence    the delta's
     * @param rowsByTable rows written per table, appended ones included; empty when skipped
     * @param subscribers replicas that heard the announcement (others catch up by polling)
     */
    public record Result(long sequence, DeltaAttempt.Outcome outcome, Map<String, Long> rowsByTable, long subscribers,
            double parityDifference) {}

    /**
     * @param target the base version, its scorer reading rows from Redis without a row cache
     * @throws DeltaRefusedException when a check fails; nothing was written
     * @throws IllegalStateException when another loader is writing into the version
     */
    public Result load(Path deltaDir, DeltaTarget target, RedisDeltaRecords records) {
        try (RedisDeltaLoaderLock lock = RedisDeltaLoaderLock.acquire(redis, records.keys())) {
            return loadHoldingTheLock(deltaDir, target, records);
        }
    }

    private Result loadHoldingTheLock(Path deltaDir, DeltaTarget target, RedisDeltaRecords records) {
        DeltaFiles files = reader.read(deltaDir);
        long sequence = files.manifest().sequence();
        DeltaChecks.checkBase(files.manifest().base(), target);
        applyLoadedDeltas(records, target);
        EmbeddingState current = target.scorer().embeddings();
        if (!DeltaChecks.isNext(sequence, current.sequence())) {
            return new Result(sequence, DeltaAttempt.Outcome.SKIPPED, Map.of(), 0, 0);
        }
        DeltaContents contents = DeltaContents.read(files);
        EmbeddingChange change = DeltaConsistency.check(files.manifest(), files.createdAt(), contents, current);
        EmbeddingState staged = current.with(change, Instant.now());
        double difference = StagedParity.check(target.scorer(), staged, new ParityFixtures(
                deltaDir.getFileName() + "/" + files.manifest().parityFixtures(), contents.fixtureLines(),
                files.manifest().parityToleranceOrDefault()));

        requireStillNext(records, sequence);
        for (TableChange table : change.tables()) {
            writeRows(records, table, dimOf(target, table.table()));
        }
        records.write(RedisDeltaRecord.of(files.manifest(), contents, Instant.now()));
        requireStillNext(records, sequence);
        long subscribers = records.complete(sequence);
        return new Result(sequence, DeltaAttempt.Outcome.APPLIED, DeltaConsistency.rowsByTable(change), subscribers,
                difference);
    }

    /** The state Redis holds: the records of the deltas loaded before, applied to the bundle's. */
    private void applyLoadedDeltas(RedisDeltaRecords records, DeltaTarget target) {
        for (DeltaAttempt attempt : history.catchUp(records, target)) {
            if (attempt.outcome() != DeltaAttempt.Outcome.APPLIED) {
                throw new IllegalStateException("Redis holds delta " + attempt.sequence() + " of "
                        + target.name() + " " + target.version() + ", which does not apply to this bundle ("
                        + attempt.reason() + "): " + attempt.message());
            }
        }
    }

    private static void requireStillNext(RedisDeltaRecords records, long sequence) {
        long latest = records.latestSequence();
        if (latest != sequence - 1) {
            throw new DeltaRefusedException(DeltaRefusal.OUT_OF_ORDER, "Redis moved on to delta " + latest
                    + " while delta " + sequence + " was checked: another loader ran at the same time");
        }
    }

    private void writeRows(RedisDeltaRecords records, TableChange table, int dim) {
        long[] rows = table.rows();
        for (int first = 0; first < rows.length; first += BATCH_ROWS) {
            int count = Math.min(BATCH_ROWS, rows.length - first);
            Map<byte[], byte[]> batch = new LinkedHashMap<>(count * 2);
            byte[][] batchKeys = new byte[count][];
            for (int i = 0; i < count; i++) {
                ByteBuffer value = ByteBuffer.allocate(dim * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                value.asFloatBuffer().put(table.values(), (first + i) * dim, dim);
                batchKeys[i] = records.keys().rowKey(table.table(), rows[first + i]);
                batch.put(batchKeys[i], value.array());
            }
            redis.commands().mset(batch);
            verify(table.table(), batchKeys, batch);
        }
    }

    private void verify(String table, byte[][] batchKeys, Map<byte[], byte[]> written) {
        var stored = redis.commands().mget(batchKeys);
        for (int i = 0; i < batchKeys.length; i++) {
            var value = stored.get(i);
            if (!value.hasValue() || !Arrays.equals(value.getValue(), written.get(batchKeys[i]))) {
                throw new IllegalStateException("Redis did not keep " + new String(batchKeys[i], StandardCharsets.UTF_8)
                        + " of table '" + table + "' as written");
            }
        }
    }

    private static int dimOf(DeltaTarget target, String table) {
        return target.manifest().tables().stream().filter(spec -> spec.name().equals(table)).findFirst()
                .orElseThrow().dim();
    }
}
