package dev.stemnet.service.delta;

import java.util.Locale;

/** Why a delta was refused: the checks of {@code docs/bundle-format.md}, "Deltas", in the order they run. */
public enum DeltaRefusal {
    /** delta.json does not parse, is another format version, lacks a key, or names a file that is not there. */
    UNREADABLE,
    /** A file's sha256 is not the one delta.json lists, or a file delta.json refers to has none listed. */
    CHECKSUM,
    /** Trained from another model, version or graph than the one serving. */
    WRONG_BASE,
    /** Not the next sequence after the serving version's applied one. */
    OUT_OF_ORDER,
    /** Sizes, tables, dims, appended blocks, row lists or added values disagree with the serving state or each other. */
    INCONSISTENT,
    /** A fixture scored with the delta staged is further than the tolerance from the trainer's score. */
    PARITY;

    /** As metrics and the admin view show it, e.g. {@code wrong_base}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
