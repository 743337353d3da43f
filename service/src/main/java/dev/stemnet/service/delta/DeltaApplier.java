package dev.stemnet.service.delta;

import dev.stemnet.service.scoring.EmbeddingChange;
import dev.stemnet.service.scoring.EmbeddingState;
import dev.stemnet.service.scoring.ParityFixtures;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a delta directory to a serving model version whose rows come from its bundle's files: every check in the
 * contract's order, then the delta's rows laid over the files in memory, its fixtures scored on that staged state,
 * and only then the state swapped in. A refused delta changes nothing. Not for concurrent use on one model: the
 * repository applies deltas on its one scan thread.
 */
public final class DeltaApplier {

    private static final Logger log = LoggerFactory.getLogger(DeltaApplier.class);

    private final DeltaReader reader;
    private final DeltaEvents events;

    public DeltaApplier(DeltaReader reader, DeltaEvents events) {
        this.reader = reader;
        this.events = events;
    }

    /**
     * @param source            how the attempt names the delta, e.g. {@code stem-net/deltas/000002}
     * @param expectedSequence  the sequence its directory name says, 0 for none; another sequence in delta.json is
     *                          refused as {@code out_of_order}
     * @return the attempt, also in the target's log and told to the events
     */
    public DeltaAttempt apply(Path directory, String source, long expectedSequence, DeltaTarget target) {
        DeltaAttempt attempt;
        // Until delta.json is read, the attempt goes by the directory's sequence.
        long sequence = expectedSequence;
        try {
            DeltaFiles files = reader.read(directory);
            sequence = files.manifest().sequence();
            if (expectedSequence > 0 && sequence != expectedSequence) {
                throw new DeltaRefusedException(DeltaRefusal.OUT_OF_ORDER, "delta.json has sequence " + sequence
                        + " in the directory of sequence " + expectedSequence);
            }
            DeltaChecks.checkBase(files.manifest().base(), target);
            EmbeddingState current = target.scorer().embeddings();
            if (!DeltaChecks.isNext(sequence, current.sequence())) {
                attempt = DeltaAttempt.skipped(source, sequence, current.sequence());
            } else {
                DeltaContents contents = DeltaContents.read(files);
                EmbeddingChange change = DeltaConsistency.check(files.manifest(), files.createdAt(), contents, current);
                EmbeddingState staged = current.with(change, Instant.now());
                double difference = StagedParity.check(target.scorer(), staged, new ParityFixtures(
                        source + "/" + files.manifest().parityFixtures(), contents.fixtureLines(),
                        files.manifest().parityToleranceOrDefault()));
                if (!target.scorer().publish(current, staged)) {
                    throw new IllegalStateException("the embedding state of " + target.name() + " changed while"
                            + " delta " + sequence + " was checked; deltas of one model must be applied one at a time");
                }
                attempt = DeltaAttempt.applied(source, sequence, DeltaConsistency.rowsByTable(change));
                log.info("Applied delta {} ({}) to {} version {}: {} rows written, {} values added, parity within {}"
                        + " (largest difference {})", sequence, source, target.name(), target.version(),
                        attempt.rowsByTable().values().stream().mapToLong(Long::longValue).sum(),
                        change.addedValues().values().stream().mapToInt(List::size).sum(),
                        files.manifest().parityToleranceOrDefault(), difference);
            }
        } catch (DeltaRefusedException e) {
            attempt = refused(source, sequence, target, e);
        } catch (RuntimeException e) {
            // A file that vanished or could not be read midway: refused like one that was never there, and tried
            // again once its files change.
            attempt = refused(source, sequence, target, new DeltaRefusedException(DeltaRefusal.UNREADABLE,
                    "cannot read the delta: " + e, e));
        }
        target.log().add(attempt);
        events.attempted(target.name(), target.version(), target.scorer(), attempt);
        return attempt;
    }

    private static DeltaAttempt refused(String source, long sequence, DeltaTarget target, DeltaRefusedException e) {
        log.error("Refused delta {} for {} version {} ({}), nothing changed: {}", source, target.name(),
                target.version(), e.reason().label(), e.getMessage());
        return DeltaAttempt.refused(source, sequence, e);
    }
}
