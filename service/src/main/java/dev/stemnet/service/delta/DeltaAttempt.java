package dev.stemnet.service.delta;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What became of one delta offered to a model version, as the admin view and the metrics show it.
 *
 * @param source      where the delta came from, without file system paths above the repository: e.g.
 *                    {@code stem-net/deltas/000002}, or {@code redis} for a record a replica applied
 * @param sequence    the delta's sequence; when delta.json could not be read, the one its directory name says (0 for
 *                    none)
 * @param reason      null when applied; the refusal's label when refused; {@code already_applied} when skipped
 * @param message     what was wrong, null when applied
 * @param rowsByTable rows written per table when applied, appended ones included; empty otherwise
 */
public record DeltaAttempt(String source, long sequence, Instant at, Outcome outcome, String reason, String message,
        Map<String, Long> rowsByTable) {

    public static final String ALREADY_APPLIED = "already_applied";

    public enum Outcome { APPLIED, REFUSED, SKIPPED }

    public DeltaAttempt {
        // In the manifest's table order, as the change lists them.
        rowsByTable = Collections.unmodifiableMap(new LinkedHashMap<>(rowsByTable));
    }

    public static DeltaAttempt applied(String source, long sequence, Map<String, Long> rowsByTable) {
        return new DeltaAttempt(source, sequence, Instant.now(), Outcome.APPLIED, null, null, rowsByTable);
    }

    public static DeltaAttempt refused(String source, long sequence, DeltaRefusedException refusal) {
        return new DeltaAttempt(source, sequence, Instant.now(), Outcome.REFUSED, refusal.reason().label(),
                refusal.getMessage(), Map.of());
    }

    public static DeltaAttempt skipped(String source, long sequence, long appliedSequence) {
        return new DeltaAttempt(source, sequence, Instant.now(), Outcome.SKIPPED, ALREADY_APPLIED,
                "sequence " + sequence + " is applied already (applied: " + appliedSequence + ")", Map.of());
    }
}
