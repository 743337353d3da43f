package dev.stemnet.service.delta.redis;

import dev.stemnet.service.delta.DeltaAttempt;
import dev.stemnet.service.delta.DeltaChecks;
import dev.stemnet.service.delta.DeltaConsistency;
import dev.stemnet.service.delta.DeltaEvents;
import dev.stemnet.service.delta.DeltaRefusedException;
import dev.stemnet.service.delta.DeltaTarget;
import dev.stemnet.service.scoring.EmbeddingChange;
import dev.stemnet.service.scoring.EmbeddingChange.TableChange;
import dev.stemnet.service.scoring.EmbeddingState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies delta records from Redis to a model version reading its rows there. The loader checked the delta (and
 * its parity, with these very rows) before it wrote anything; a replica checks that the record is for this version,
 * next in order and consistent with its state, then grows its table bounds, evicts the changed rows from its row
 * caches and swaps in the new state: vocabularies with the added values, the appended rows' mapping.
 */
public final class RedisRecordApplier {

    static final String SOURCE = "redis";
    private static final Logger log = LoggerFactory.getLogger(RedisRecordApplier.class);

    private final DeltaEvents events;
    private final boolean logApplied;

    public RedisRecordApplier(DeltaEvents events) {
        this(events, true);
    }

    /** @param logApplied false where applying the records is only a step to something else (the loader's own check) */
    RedisRecordApplier(DeltaEvents events, boolean logApplied) {
        this.events = events;
        this.logApplied = logApplied;
    }

    /**
     * Applies the records past the version's sequence up to the newest, in order, and stops at the first that is not
     * applied.
     *
     * @throws io.lettuce.core.RedisException when Redis does not answer
     */
    public List<DeltaAttempt> catchUp(RedisDeltaRecords records, DeltaTarget target) {
        List<DeltaAttempt> attempts = new ArrayList<>();
        long latest = records.latestSequence();
        for (long next = target.scorer().embeddings().sequence() + 1; next <= latest; next++) {
            DeltaAttempt attempt = apply(records.read(next), target);
            attempts.add(attempt);
            if (attempt.outcome() != DeltaAttempt.Outcome.APPLIED) {
                break;
            }
        }
        return attempts;
    }

    /** @return the attempt, also in the target's log and told to the events */
    public DeltaAttempt apply(RedisDeltaRecord record, DeltaTarget target) {
        DeltaAttempt attempt;
        try {
            DeltaChecks.checkBase(record.delta().base(), target);
            EmbeddingState current = target.scorer().embeddings();
            if (!DeltaChecks.isNext(record.sequence(), current.sequence())) {
                attempt = DeltaAttempt.skipped(SOURCE, record.sequence(), current.sequence());
            } else {
                EmbeddingChange change = DeltaConsistency.check(record.delta(), record.createdAt(), record.contents(),
                        current);
                EmbeddingState next = current.with(change, Instant.now());
                // Before the new state serves: bounds that admit the appended rows, no cached copy of a changed row.
                for (TableChange table : change.tables()) {
                    long rowsBefore = current.rows(table.table());
                    long[] changed = Arrays.stream(table.rows()).filter(row -> row < rowsBefore).toArray();
                    target.store().rowsWritten(table.table(), table.rowsAfter(), changed);
                }
                if (!target.scorer().publish(current, next)) {
                    throw new IllegalStateException("the embedding state of " + target.name() + " changed while delta "
                            + record.sequence() + " was applied; deltas of one model must be applied one at a time");
                }
                attempt = DeltaAttempt.applied(SOURCE, record.sequence(), DeltaConsistency.rowsByTable(change));
                if (logApplied) {
                    log.info("Applied delta {} from Redis to {} version {}: {} rows, {} values added",
                            record.sequence(), target.name(), target.version(),
                            attempt.rowsByTable().values().stream().mapToLong(Long::longValue).sum(),
                            change.addedValues().values().stream().mapToInt(List::size).sum());
                }
            }
        } catch (DeltaRefusedException e) {
            log.error("Refused delta {} from Redis for {} version {} ({}), nothing changed: {}", record.sequence(),
                    target.name(), target.version(), e.reason().label(), e.getMessage());
            attempt = DeltaAttempt.refused(SOURCE, record.sequence(), e);
        }
        target.log().add(attempt);
        events.attempted(target.name(), target.version(), target.scorer(), attempt);
        return attempt;
    }
}
