package dev.stemnet.service.delta;

import dev.stemnet.service.delta.DeltaManifest.Base;

/** The checks between reading a delta and looking at its contents: is it for this version, and next in order. */
public final class DeltaChecks {

    private DeltaChecks() {}

    /** @throws DeltaRefusedException {@code wrong_base} unless the delta names this model, version and graph */
    public static void checkBase(Base base, DeltaTarget target) {
        if (!base.name().equals(target.name()) || !base.version().equals(target.version())) {
            throw new DeltaRefusedException(DeltaRefusal.WRONG_BASE, "the delta is for " + base.name() + " version "
                    + base.version() + ", this is " + target.name() + " version " + target.version());
        }
        if (!base.onnxSha256().equals(target.onnxSha256())) {
            throw new DeltaRefusedException(DeltaRefusal.WRONG_BASE, "the delta was trained against the graph with"
                    + " sha256 " + base.onnxSha256() + ", this version's graph has " + target.onnxSha256()
                    + "; a changed dense network is a new bundle");
        }
    }

    /**
     * @param applied the sequence the version has applied, 0 for none
     * @return false when {@code sequence} is applied already: skipped, not refused
     * @throws DeltaRefusedException {@code out_of_order} when it is not the next one
     */
    public static boolean isNext(long sequence, long applied) {
        if (sequence <= applied) {
            return false;
        }
        if (sequence != applied + 1) {
            throw new DeltaRefusedException(DeltaRefusal.OUT_OF_ORDER, "sequence " + sequence + " cannot apply: the"
                    + " version has applied " + (applied == 0 ? "no delta" : "up to sequence " + applied)
                    + ", so the next is " + (applied + 1));
        }
        return true;
    }
}
