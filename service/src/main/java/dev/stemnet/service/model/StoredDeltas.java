package dev.stemnet.service.model;

import dev.stemnet.service.scoring.ParityFixtures;

/**
 * Brings a version that was just opened up to the deltas its embedding store holds already, before its parity
 * check: with Redis, the loader wrote delta rows into the live keys, so the bundle's fixtures no longer hold once
 * a delta changed rows, and the fixtures of the newest delta applied stand in for them. The mapped files hold the
 * bundle's rows only; the repository applies the deltas beside them after the check.
 */
@FunctionalInterface
public interface StoredDeltas {

    /** The store holds no deltas: the bundle's own fixtures. */
    StoredDeltas NONE = StoredDeltas::bundleFixtures;

    /**
     * @return the fixtures to check the version against
     * @throws RuntimeException when a stored delta cannot be applied: the version does not load
     */
    ParityFixtures catchUp(LoadedModel model);

    /** The bundle's parity fixtures and tolerance. */
    static ParityFixtures bundleFixtures(LoadedModel model) {
        return ParityWarmup.bundleFixtures(model);
    }
}
